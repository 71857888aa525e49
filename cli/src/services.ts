export { isService, SERVICES, type Service } from '@logferry/shared/services';
