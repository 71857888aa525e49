export const SERVICE_BUS_ENV: readonly (readonly [string, string])[] = [
  ['SERVICEBUS_NAMESPACE', 'namespace reached with the Azure identity (AZURE_* variables; az login is not used)'],
  ['SERVICEBUS_CONNECTION_STRING', 'or a connection string (emulator, stand-in, SAS key)'],
  ['', 'neither set: the local stack started by `npm start`, if one runs'],
];
