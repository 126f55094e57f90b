{{/* Names and labels. */}}
{{- define "callbridge.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "callbridge.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "callbridge.labels" -}}
{{ include "callbridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "callbridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "callbridge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "callbridge.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The bridge's settings as it will read them: values.env over the binary's defaults. */}}
{{- define "callbridge.sink" -}}{{ default "nats" .Values.env.CALLBRIDGE_SINK }}{{- end -}}

{{/* "true" when the bridge runs its own JetStream server: sink nats and no CALLBRIDGE_NATS_URL. */}}
{{- define "callbridge.embedded" -}}
{{- if and (eq (include "callbridge.sink" .) "nats") (not .Values.env.CALLBRIDGE_NATS_URL) -}}true{{- end -}}
{{- end -}}

{{/* "true" in buffer mode: a StatefulSet with a volume per pod. */}}
{{- define "callbridge.buffer" -}}
{{- if eq (default "broker" .Values.env.CALLBRIDGE_ACK_MODE) "buffer" -}}true{{- end -}}
{{- end -}}

{{- define "callbridge.dataDir" -}}{{ default "/data" .Values.env.CALLBRIDGE_DATA_DIR }}{{- end -}}

{{/* The port of CALLBRIDGE_LISTEN (host:port or :port), default 8080. */}}
{{- define "callbridge.port" -}}
{{- $listen := default ":8080" .Values.env.CALLBRIDGE_LISTEN -}}
{{- last (splitList ":" $listen) -}}
{{- end -}}

{{/*
Whole seconds (rounded up) of a Go duration made of h, m, s, ms, us and ns parts, such as 30s or
1m30s; values.schema.json admits only such durations for the variables read here.
*/}}
{{- define "callbridge.seconds" -}}
{{- $ns := 0 -}}
{{- range regexFindAll "[0-9]+(h|ms|us|µs|ns|m|s)" . -1 -}}
{{- $n := int64 (regexFind "^[0-9]+" .) -}}
{{- $unit := regexReplaceAll "^[0-9]+" . "" -}}
{{- $scale := dict "h" 3600000000000 "m" 60000000000 "s" 1000000000 "ms" 1000000 "us" 1000 "µs" 1000 "ns" 1 -}}
{{- $ns = add $ns (mul $n (get $scale $unit)) -}}
{{- end -}}
{{- div (add $ns 999999999) 1000000000 -}}
{{- end -}}

{{/* Grace period: CALLBRIDGE_SHUTDOWN_TIMEOUT (default 30s) plus the margin. */}}
{{- define "callbridge.terminationGracePeriodSeconds" -}}
{{- add (include "callbridge.seconds" (default "30s" .Values.env.CALLBRIDGE_SHUTDOWN_TIMEOUT)) .Values.terminationGraceMarginSeconds -}}
{{- end -}}

{{/* The file name of a *_FILE variable's file: CALLBRIDGE_NATS_CREDS_FILE → nats-creds. */}}
{{- define "callbridge.fileName" -}}{{ . | trimPrefix "CALLBRIDGE_" | trimSuffix "_FILE" | lower | replace "_" "-" }}{{- end -}}

{{/* The path a *_FILE variable points to. */}}
{{- define "callbridge.filePath" -}}/etc/callbridge/files/{{ include "callbridge.fileName" . }}{{- end -}}

{{/*
Settings the chart cannot deploy safely stop the render with the reason. `helm lint` does not
run these (it renders without failing on fail); `helm template` and `helm install` do.
*/}}
{{- define "callbridge.validate" -}}
{{- if include "callbridge.embedded" . -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- fail (printf "replicaCount is %d but CALLBRIDGE_NATS_URL is empty: each pod would run its own embedded JetStream, so callbacks would be split across unrelated stores and deduplication would not work. Set CALLBRIDGE_NATS_URL (or CALLBRIDGE_SINK=kafka) to scale out, or keep replicaCount 1." (int .Values.replicaCount)) -}}
{{- end -}}
{{- if .Values.autoscaling.enabled -}}
{{- fail "autoscaling.enabled is true but CALLBRIDGE_NATS_URL is empty: the embedded JetStream cannot be scaled out. Set CALLBRIDGE_NATS_URL (or CALLBRIDGE_SINK=kafka), or disable autoscaling." -}}
{{- end -}}
{{- if include "callbridge.buffer" . -}}
{{- fail "CALLBRIDGE_ACK_MODE=buffer forwards to an external sink: set CALLBRIDGE_NATS_URL or CALLBRIDGE_SINK=kafka." -}}
{{- end -}}
{{- end -}}
{{- if and (eq (include "callbridge.sink" .) "kafka") (not .Values.env.CALLBRIDGE_KAFKA_BROKERS) -}}
{{- fail "CALLBRIDGE_SINK=kafka needs CALLBRIDGE_KAFKA_BROKERS." -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- fail "autoscaling.minReplicas is greater than autoscaling.maxReplicas." -}}
{{- end -}}
{{- end -}}
