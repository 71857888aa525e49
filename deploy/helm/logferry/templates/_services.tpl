{{/*
The six services and what each needs. One place, so a Deployment, ScaledObject and PDB are
rendered alike for all of them. Keys are the service names the image's entrypoint accepts.
*/}}
{{- define "logferry.services" -}}
sqs-poller: {{ toJson .Values.sqsPoller }}
s3-fetcher: {{ toJson .Values.s3Fetcher }}
la-uploader: {{ toJson .Values.laUploader }}
blob-scanner: {{ toJson .Values.blobScanner }}
adx-ingester: {{ toJson .Values.adxIngester }}
completion-checker: {{ toJson .Values.completionChecker }}
{{- end -}}

{{/*
Whether a service reads mappings.json (mounted from the ConfigMap at /etc/logferry): adx-ingester routes blobs with
it, and s3-fetcher, while adx-ingester runs, marks the staged batches whose source it maps (adxReads), which
la-uploader then leaves to the lifecycle rule. Called with (dict "root" $ "name" <service>).
*/}}
{{- define "logferry.mountsMappings" -}}
{{- $adx := .root.Values.adxIngester.enabled -}}
{{- /* s3-fetcher marks the staged batches adx-ingester reads too (and checks the routes' adx flags). */ -}}
{{- or (eq .name "adx-ingester") (and (eq .name "s3-fetcher") $adx) -}}
{{- end -}}

{{/* Whether a service reads routes.json: sqs-poller and s3-fetcher, when the routes value is set. */}}
{{- define "logferry.mountsRoutes" -}}
{{- and (has .name (list "sqs-poller" "s3-fetcher")) (not (empty .root.Values.routes)) -}}
{{- end -}}

{{/* Whether a service mounts the ConfigMap at /etc/logferry. */}}
{{- define "logferry.mountsConfig" -}}
{{- or (eq (include "logferry.mountsMappings" .) "true") (eq (include "logferry.mountsRoutes" .) "true") -}}
{{- end -}}

{{/*
The container environment of one service: only variables that service's configuration reads
(shared/src/config/services/<name>.ts). deploy/test/helm-chart.test.ts renders it for values.yaml and every
example and parses it with that schema, so an unknown name or a missing companion variable fails the tests.
Called with (dict "root" $ "name" <service> "svc" <its values>).
*/}}
{{- define "logferry.env" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $svc := .svc -}}
{{ include "logferry.commonEnv" $root }}
{{- /* Read by the CLI, not the service: `kubectl exec … logferry config check` checks this pod's service. */}}
- name: LOGFERRY_SERVICE
  value: {{ $name | quote }}
{{- if ne $name "sqs-poller" }}
{{ include "logferry.storageEnv" $root }}
{{- end }}
{{- if has $name (list "sqs-poller" "s3-fetcher") }}
{{ include "logferry.awsEnv" $root }}
{{- end }}
{{- if has $name (list "adx-ingester" "completion-checker") }}
{{ include "logferry.kustoEnv" $root }}
{{- end }}
{{- if eq $name "adx-ingester" }}
- name: KUSTO_DATABASE
  value: {{ required "adx.database is required" $root.Values.adx.database | quote }}
{{- end }}
{{- if eq (include "logferry.mountsMappings" (dict "root" $root "name" $name)) "true" }}
- name: MAPPINGS_FILE
  value: /etc/logferry/mappings.json
{{- end }}
{{- if eq (include "logferry.mountsRoutes" (dict "root" $root "name" $name)) "true" }}
- name: ROUTES_FILE
  value: /etc/logferry/routes.json
{{- end }}
{{- /* The containers a message may name: la-uploader and adx-ingester refuse staged batches elsewhere. */}}
{{- if has $name (list "la-uploader" "adx-ingester") }}
- name: STAGING_CONTAINER
  value: {{ $root.Values.s3Fetcher.env.STAGING_CONTAINER | default "staging" | quote }}
{{- end }}
{{- if eq $name "adx-ingester" }}
- name: DATA_CONTAINER
  value: {{ $root.Values.adx.dataContainer | quote }}
{{- end }}
{{- if eq $name "blob-scanner" }}
- name: DATA_CONTAINER
  value: {{ $root.Values.adx.dataContainer | quote }}
- name: HTTP_PORT
  value: {{ $svc.httpPort | quote }}
{{- if and $root.Values.healthService.enabled (not (hasKey $svc.env "READINESS_URLS")) }}
- name: READINESS_URLS
  value: {{ include "logferry.readinessUrls" $root | quote }}
{{- end }}
{{- /* values.schema.json refuses a status API without a way to authenticate callers, an audience without a
       required role or scope, and an audience without a tenant. */}}
{{- with $svc.auth }}
{{- if .audience }}
# Entra ID bearer tokens for the status API: issued by this tenant, for one of these audiences.
- name: AUTH_TENANT_ID
  value: {{ default $root.Values.azure.tenantId .tenantId | quote }}
- name: AUTH_AUDIENCE
  value: {{ join "," .audience | quote }}
{{- with .requiredRole }}
- name: AUTH_REQUIRED_ROLE
  value: {{ . | quote }}
{{- end }}
{{- with .requiredScope }}
- name: AUTH_REQUIRED_SCOPE
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- if .apiKey.secretName }}
- name: STATUS_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .apiKey.secretName | quote }}
      key: {{ .apiKey.secretKey | quote }}
{{- end }}
{{- end }}
{{- end }}
- name: SHUTDOWN_GRACE_MS
  value: {{ mul (sub $svc.terminationGracePeriodSeconds 5) 1000 | quote }}
{{- range $k, $v := $svc.env }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- range $svc.secretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef: { name: {{ .secretName }}, key: {{ .secretKey }} }
{{- end }}
{{- end -}}
