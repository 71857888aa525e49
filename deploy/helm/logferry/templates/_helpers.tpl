{{/* Names ----------------------------------------------------------------- */}}
{{- define "logferry.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "logferry.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "logferry.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "logferry.labels" -}}
app.kubernetes.io/name: {{ include "logferry.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "logferry.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "logferry.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create=false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "logferry.image" -}}
{{- $img := .root.Values.image -}}
{{- $tag := default .root.Chart.AppVersion $img.tag -}}
{{- if $img.registry -}}{{ printf "%s/%s:%s" $img.registry $img.repository $tag }}{{- else -}}{{ printf "%s:%s" $img.repository $tag }}{{- end -}}
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
{{- /* `required` passes an empty list (only nil and "" fail it), so check the joined string. */}}
- name: S3_ALLOWED_BUCKETS
  value: {{ required "aws.allowedBuckets needs at least one bucket" (join "," .Values.aws.allowedBuckets) | quote }}
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
