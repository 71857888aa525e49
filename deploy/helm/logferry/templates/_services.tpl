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

{{/* Which extra env blocks a service needs. */}}
{{- define "logferry.needsAws" -}}{{ has . (list "sqs-poller" "s3-fetcher") }}{{- end -}}
{{- define "logferry.needsAdx" -}}{{ has . (list "blob-scanner" "adx-ingester" "completion-checker") }}{{- end -}}
