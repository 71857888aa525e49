{{/* Names (bitnami's common.names.*) ------------------------------------------ */}}
{{- define "logferry.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
<release>-<name>, or the release name alone when it already contains the name (release "logferry" gives
"logferry", not "logferry-logferry"); fullnameOverride replaces it.
*/}}
{{- define "logferry.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
One service's resources: <fullname>-<service> within the 63 characters a Service name or label allows. The
fullname is cut, not the service, so the six stay distinct. (`int`: Sprig's trunc takes an int, `sub` gives int64.)
*/}}
{{- define "logferry.componentName" -}}
{{- $room := int (sub 62 (len .name)) -}}
{{- printf "%s-%s" (include "logferry.fullname" .root | trunc $room | trimSuffix "-") .name -}}
{{- end -}}

{{/* The Service of one service's health port: <component>-health, within 63 characters. */}}
{{- define "logferry.healthServiceName" -}}
{{- $room := int (sub 55 (len .name)) -}}
{{- printf "%s-%s-health" (include "logferry.fullname" .root | trunc $room | trimSuffix "-") .name -}}
{{- end -}}

{{/*
blob-scanner's READINESS_URLS: each enabled service's /readyz through its health Service (health-services.yaml).
*/}}
{{- define "logferry.readinessUrls" -}}
{{- $root := . -}}
{{- $urls := list -}}
{{- range $name, $svc := (include "logferry.services" . | fromYaml) }}
{{- if $svc.enabled }}
{{- $urls = append $urls (printf "%s=http://%s:%v/readyz" $name (include "logferry.healthServiceName" (dict "root" $root "name" $name)) $root.Values.healthPort) -}}
{{- end }}
{{- end }}
{{- join "," $urls -}}
{{- end -}}

{{- define "logferry.labels" -}}
app.kubernetes.io/name: {{ include "logferry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* values.schema.json requires serviceAccount.name when serviceAccount.create=false. */}}
{{- define "logferry.serviceAccountName" -}}
{{- default (include "logferry.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* global.imageRegistry, when set, replaces image.registry (bitnami's common.images.image). */}}
{{- define "logferry.image" -}}
{{- $img := .root.Values.image -}}
{{- $registry := default $img.registry .root.Values.global.imageRegistry -}}
{{- $tag := default .root.Chart.AppVersion $img.tag -}}
{{- if $registry -}}{{ printf "%s/%s:%s" $registry $img.repository $tag }}{{- else -}}{{ printf "%s:%s" $img.repository $tag }}{{- end -}}
{{- end -}}

{{/* global.imagePullSecrets then image.pullSecrets, each once; an entry is a name or {name: …}. */}}
{{- define "logferry.imagePullSecrets" -}}
{{- $names := list -}}
{{- range (concat .Values.global.imagePullSecrets .Values.image.pullSecrets) -}}
{{- if kindIs "map" . -}}
{{- $names = append $names .name -}}
{{- else -}}
{{- $names = append $names . -}}
{{- end -}}
{{- end -}}
{{- range uniq $names }}
- name: {{ . }}
{{- end -}}
{{- end -}}

{{/*
Environment shared by every service: where Service Bus is, logging, probes and telemetry, and how to
authenticate (workload identity: no secrets in the pod spec).
*/}}
{{- define "logferry.commonEnv" -}}
- name: SERVICEBUS_NAMESPACE
  value: {{ required "azure.serviceBusNamespace is required (e.g. mybus.servicebus.windows.net)" .Values.azure.serviceBusNamespace | quote }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: HEALTH_PORT
  value: {{ .Values.healthPort | quote }}
{{- if .Values.telemetry.applicationInsights.secretName }}
- name: APPLICATIONINSIGHTS_CONNECTION_STRING
  valueFrom:
    secretKeyRef:
      name: {{ .Values.telemetry.applicationInsights.secretName }}
      key: {{ .Values.telemetry.applicationInsights.secretKey }}
{{- end }}
{{- if .Values.telemetry.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.telemetry.otlpEndpoint | quote }}
{{- end }}
{{- end -}}

{{/* Storage: staging and data containers, the status table (every service but sqs-poller). */}}
{{- define "logferry.storageEnv" -}}
- name: STORAGE_ACCOUNT_URL
  value: {{ required "azure.storageAccountUrl is required" .Values.azure.storageAccountUrl | quote }}
- name: STORAGE_TABLE_URL
  value: {{ required "azure.storageTableUrl is required" .Values.azure.storageTableUrl | quote }}
- name: STATUS_TABLE
  value: {{ .Values.azure.statusTable | quote }}
{{- end -}}

{{/* AWS settings for the two AWS-facing services (web identity from the Azure token). */}}
{{- define "logferry.awsEnv" -}}
- name: AWS_REGION
  value: {{ required "aws.region is required" .Values.aws.region | quote }}
- name: AWS_ROLE_ARN
  value: {{ required "aws.roleArn is required (the IAM role trusted for the Azure identity)" .Values.aws.roleArn | quote }}
- name: AWS_WEB_IDENTITY_AUDIENCE
  value: {{ .Values.aws.webIdentityAudience | quote }}
{{- /* `required` passes an empty list (only nil and "" fail it), so check the joined string. With routes, the
routes are the allow-list and aws.allowedBuckets, when given, narrows them. */}}
{{- if or .Values.aws.allowedBuckets (empty .Values.routes) }}
- name: S3_ALLOWED_BUCKETS
  value: {{ required "aws.allowedBuckets needs at least one bucket (or set routes)" (join "," .Values.aws.allowedBuckets) | quote }}
{{- end }}
{{- if .Values.aws.allowedPrefixes }}
- name: S3_ALLOWED_PREFIXES
  value: {{ join "," .Values.aws.allowedPrefixes | quote }}
{{- end }}
{{- end -}}

{{/* The ADX cluster, for the two services that talk to it (adx-ingester, completion-checker). */}}
{{- define "logferry.kustoEnv" -}}
- name: KUSTO_URI
  value: {{ required "adx.clusterUri is required" .Values.adx.clusterUri | quote }}
- name: KUSTO_INGEST_URI
  value: {{ required "adx.ingestUri is required" .Values.adx.ingestUri | quote }}
{{- end -}}
