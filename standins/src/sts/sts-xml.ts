/** The XML shapes STS's awsQuery protocol answers with, as the AWS SDK parses them. */

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface AssumedRole {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly subject: string;
  readonly audience: string;
  readonly provider: string;
  readonly requestId: string;
}

export function assumeRoleWithWebIdentityXml(role: AssumedRole, creds: IssuedCredentials): string {
  const { account, roleName } = splitRoleArn(role.roleArn);
  return `<AssumeRoleWithWebIdentityResponse xmlns="${NS}">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>${esc(role.subject)}</SubjectFromWebIdentityToken>
    <Audience>${esc(role.audience)}</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::${account}:assumed-role/${esc(roleName)}/${esc(role.sessionName)}</Arn>
      <AssumedRoleId>AROA${account}STANDIN:${esc(role.sessionName)}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>${esc(creds.sessionToken)}</SessionToken>
      <SecretAccessKey>${esc(creds.secretAccessKey)}</SecretAccessKey>
      <Expiration>${creds.expiration.toISOString()}</Expiration>
      <AccessKeyId>${esc(creds.accessKeyId)}</AccessKeyId>
    </Credentials>
    <Provider>${esc(role.provider)}</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>${role.requestId}</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
`;
}

export function errorXml(code: string, message: string, requestId: string, type = 'Sender'): string {
  return `<ErrorResponse xmlns="${NS}">
  <Error>
    <Type>${type}</Type>
    <Code>${esc(code)}</Code>
    <Message>${esc(message)}</Message>
  </Error>
  <RequestId>${requestId}</RequestId>
</ErrorResponse>
`;
}

function splitRoleArn(arn: string): { account: string; roleName: string } {
  const parts = arn.split(':');
  const resource = parts.slice(5).join(':');
  return {
    account: parts[4] ?? '000000000000',
    roleName:
      resource
        .replace(/^role\//, '')
        .split('/')
        .pop() ?? 'role',
  };
}

function esc(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
