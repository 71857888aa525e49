export { checkRoutesAgainstMappings, loadRoutes, parseRoutes, RoutesError } from './load-routes.ts';
export {
  type LogsIngestionDestination,
  ROUTE_FORMATS,
  type Route,
  type RouteFormat,
  TIME_FORMATS,
  type TimeFormat,
} from './route-schema.ts';
export {
  createRouteTable,
  type RouteTable,
  type RouteVerdict,
  routeTableFor,
  routeTableOrExit,
  singleRoute,
} from './route-table.ts';
