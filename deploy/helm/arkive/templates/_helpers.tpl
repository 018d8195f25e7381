{{/* The five processes of arkive, each a Deployment of the same image. */}}
{{- define "arkive.services" -}}
gateway ingest hashing lineage retention
{{- end }}

{{/* Every Deployment: the five services and, when web.enabled, the web dashboard. */}}
{{- define "arkive.processes" -}}
{{ include "arkive.services" . }}{{ if .Values.web.enabled }} web{{ end }}
{{- end }}

{{/* The web dashboard's environment: no database, S3 or NATS credentials, only the gateway's address. */}}
{{- define "arkive.webEnv" -}}
- name: ARKIVE_GATEWAY_ADDR
  value: {{ printf "%s-gateway:%v" (include "arkive.fullname" .) .Values.gateway.port | quote }}
- name: ARKIVE_WEB_ADDR
  value: {{ printf "0.0.0.0:%v" .Values.web.port | quote }}
- name: ARKIVE_HEALTH_HOST
  value: "0.0.0.0"
- name: ARKIVE_HEALTH_PORT
  value: {{ .Values.healthPort | quote }}
- name: ARKIVE_DRAIN_SECONDS
  value: {{ .Values.drainSeconds | quote }}
- name: ARKIVE_LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
{{- include "arkive.secretEnv" (dict "root" . "env" "ARKIVE_WEB_SECRET" "ref" .Values.secrets.webSecret "optional" true) }}
{{- with .Values.web.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "arkive.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}{{ .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}{{ end }}
{{- end }}

{{- define "arkive.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: arkive
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector of one service's pods: call with (dict "root" $ "svc" "gateway"). */}}
{{- define "arkive.selector" -}}
app.kubernetes.io/name: arkive
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .svc }}
{{- end }}

{{- define "arkive.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}{{ default (include "arkive.fullname" .) .Values.serviceAccount.name }}
{{- else }}{{ default "default" .Values.serviceAccount.name }}{{ end }}
{{- end }}

{{/* One env entry read from a Secret: (dict "root" $ "env" "ARKIVE_X" "ref" .Values.secrets.x "optional" bool). */}}
{{- define "arkive.secretEnv" -}}
{{- $name := default .root.Values.existingSecret .ref.name }}
{{- if .ref.key }}
{{- if not $name }}{{ fail (printf "%s: set existingSecret or the secret's name (credentials never come from values)" .env) }}{{ end }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ $name }}
      key: {{ .ref.key }}
{{- else if not .optional }}{{ fail (printf "%s: the secret key must not be empty" .env) }}
{{- end }}
{{- end }}

{{/* The environment every container gets. */}}
{{- define "arkive.env" -}}
{{- $c := .Values.config }}
{{- if not $c.s3Endpoint }}{{ fail "config.s3Endpoint is required" }}{{ end }}
{{- if not .Values.secrets.natsUrl.key }}
- name: ARKIVE_NATS_URL
  value: {{ $c.natsUrl | quote }}
{{- end }}
{{- include "arkive.secretEnv" (dict "root" . "env" "ARKIVE_NATS_URL" "ref" .Values.secrets.natsUrl "optional" true) }}
{{- include "arkive.secretEnv" (dict "root" . "env" "ARKIVE_DATABASE_URL" "ref" .Values.secrets.databaseUrl) }}
{{- include "arkive.secretEnv" (dict "root" . "env" "ARKIVE_S3_ACCESS_KEY" "ref" .Values.secrets.s3AccessKey) }}
{{- include "arkive.secretEnv" (dict "root" . "env" "ARKIVE_S3_SECRET_KEY" "ref" .Values.secrets.s3SecretKey) }}
- name: ARKIVE_S3_ENDPOINT
  value: {{ $c.s3Endpoint | quote }}
{{- with $c.s3PublicEndpoint }}
- name: ARKIVE_S3_PUBLIC_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: ARKIVE_S3_BUCKET
  value: {{ $c.s3Bucket | quote }}
- name: ARKIVE_S3_REGION
  value: {{ $c.s3Region | quote }}
- name: ARKIVE_DIRECT_TRANSFERS
  value: {{ $c.directTransfers | quote }}
- name: ARKIVE_SUBJECT_PREFIX
  value: {{ $c.subjectPrefix | quote }}
- name: ARKIVE_STREAM
  value: {{ $c.stream | quote }}
- name: ARKIVE_STREAM_REPLICAS
  value: {{ $c.streamReplicas | quote }}
- name: ARKIVE_HEALTH_HOST
  value: "0.0.0.0"
- name: ARKIVE_HEALTH_PORT
  value: {{ .Values.healthPort | quote }}
- name: ARKIVE_DRAIN_SECONDS
  value: {{ .Values.drainSeconds | quote }}
- name: ARKIVE_GATEWAY_ADDR
  value: {{ printf "0.0.0.0:%v" .Values.gateway.port | quote }}
- name: ARKIVE_LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
{{- with .Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $.Values.tracing.sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $.Values.tracing.samplerArg | quote }}
{{- end }}
{{- with $c.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The internal plane's credentials of one service: (dict "root" $ "svc" "gateway"). Its own NATS
user (permissions on the NATS server are per user: see deploy/README.md) and, except for the
gateway, which uses no database, the PostgreSQL password. */}}
{{- define "arkive.planeEnv" -}}
{{- $s := .root.Values.secrets }}
{{- with $s.natsPasswords }}{{ if .keyPrefix }}
- name: ARKIVE_NATS_USER
  value: {{ $.svc | quote }}
{{- include "arkive.secretEnv" (dict "root" $.root "env" "ARKIVE_NATS_PASSWORD" "ref" (dict "name" .name "key" (printf "%s%s" .keyPrefix $.svc))) }}
{{- end }}{{ end }}
{{- if ne .svc "gateway" }}
{{- include "arkive.secretEnv" (dict "root" .root "env" "ARKIVE_DATABASE_PASSWORD" "ref" $s.databasePassword "optional" true) }}
{{- end }}
{{- end }}
