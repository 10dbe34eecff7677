{{- define "lagscaler.labels" -}}
app.kubernetes.io/part-of: lagscaler
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "lagscaler.operator.selector" -}}
app.kubernetes.io/name: lagscaler-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lagscaler.adapter.selector" -}}
app.kubernetes.io/name: lagscaler-metrics-adapter
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lagscaler.adapter.service" -}}
lagscaler-metrics-adapter
{{- end }}

{{- define "lagscaler.operator.feeds" -}}
{{- $ns := .Release.Namespace -}}
{{- $feeds := list -}}
{{- range $i := until (int (include "lagscaler.operator.count" .)) -}}
{{- $feeds = append $feeds (printf "lagscaler-operator-%d.lagscaler-operator.%s.svc:9090" $i $ns) -}}
{{- end -}}
{{- join "," $feeds -}}
{{- end }}

{{/* Operator replicas: operator.shards when sharded (2 or more), else operator.replicas. */}}
{{- define "lagscaler.operator.count" -}}
{{- if ge (int .Values.operator.shards) 2 -}}{{ .Values.operator.shards }}{{- else -}}{{ .Values.operator.replicas }}{{- end -}}
{{- end }}

{{- define "lagscaler.operator.sharded" -}}
{{- if ge (int .Values.operator.shards) 2 -}}true{{- end -}}
{{- end }}
