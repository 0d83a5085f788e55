{{/*
The chart's name, truncated to the 63 characters a label allows.
*/}}
{{- define "churn-pipeline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name: the prefix of every object's name.
*/}}
{{- define "churn-pipeline.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "churn-pipeline.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "churn-pipeline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: churn-pipeline
{{- end }}

{{/*
The labels that pick one component's pods: dict "root" $ "component" name.
*/}}
{{- define "churn-pipeline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "churn-pipeline.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The labels the ServiceMonitor selects the metrics Services by (each carries them).
*/}}
{{- define "churn-pipeline.metricsLabels" -}}
app.kubernetes.io/name: {{ include "churn-pipeline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
churn-pipeline/metrics: "true"
{{- end }}

{{/*
The Deployments of the chosen shape, as JSON {"items": [{"name", "script", "spec"}]}:
the engine, or every enabled processor service. A service's script is the file the
build writes for its src/main.ts.
*/}}
{{- define "churn-pipeline.components" -}}
{{- $items := list }}
{{- if eq .Values.shape "engine" }}
{{- $items = append $items (dict "name" "engine" "script" "services/engine/dist/main.js" "spec" .Values.engine) }}
{{- else if eq .Values.shape "services" }}
{{- range $name, $spec := .Values.services }}
{{- if $spec.enabled }}
{{- $items = append $items (dict "name" $name "script" (printf "services/%s/dist/main.js" $name) "spec" $spec) }}
{{- end }}
{{- end }}
{{- if not $items }}
{{- fail "shape is services but every service is disabled: enable at least one under services" }}
{{- end }}
{{- else }}
{{- fail (printf "shape must be engine or services, not %q" (toString .Values.shape)) }}
{{- end }}
{{- dict "items" $items | toJson }}
{{- end }}

{{/*
A component's settings: the top-level env with the component's env merged over it.
*/}}
{{- define "churn-pipeline.envOf" -}}
{{- $env := merge (deepCopy (.spec.env | default dict)) (deepCopy (.root.Values.env | default dict)) }}
{{- $env | toJson }}
{{- end }}

{{/*
An environment value as the service reads it: whole numbers without an exponent.
*/}}
{{- define "churn-pipeline.envValue" -}}
{{- if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) }}
{{- int64 . | toString | quote }}
{{- else }}
{{- toString . | quote }}
{{- end }}
{{- end }}

{{/*
SHUTDOWN_TIMEOUT_MS of a component, as a number: its env, or the service's default.
*/}}
{{- define "churn-pipeline.shutdownTimeoutMs" -}}
{{- $env := include "churn-pipeline.envOf" . | fromJson }}
{{- $ms := "" }}
{{- if hasKey $env "SHUTDOWN_TIMEOUT_MS" }}{{ $ms = index $env "SHUTDOWN_TIMEOUT_MS" }}{{ end }}
{{- if or (kindIs "invalid" $ms) (eq (toString $ms) "") }}25000{{ else }}{{ int64 $ms }}{{ end }}
{{- end }}

{{/*
The pod's grace period: the value set, which must be longer than SHUTDOWN_TIMEOUT_MS,
or ceil(SHUTDOWN_TIMEOUT_MS / 1000) + 10.
*/}}
{{- define "churn-pipeline.gracePeriodSeconds" -}}
{{- $ms := include "churn-pipeline.shutdownTimeoutMs" . | int64 }}
{{- $set := .root.Values.terminationGracePeriodSeconds }}
{{- if kindIs "invalid" $set }}
{{- add (div (add $ms 999) 1000) 10 }}
{{- else if le (mul (int64 $set) 1000) $ms }}
{{- fail (printf "terminationGracePeriodSeconds (%d s) must be longer than SHUTDOWN_TIMEOUT_MS (%d ms) of %s: the kubelet kills the pod at the end of its grace period, before the service has finished or aborted its transaction and left the group; leave it empty to derive it (ceil(SHUTDOWN_TIMEOUT_MS / 1000) + 10)" (int64 $set) $ms .name) }}
{{- else }}
{{- int64 $set }}
{{- end }}
{{- end }}

{{/*
The chart's Secret: its name, and whether there is anything to put in it.
*/}}
{{- define "churn-pipeline.secretName" -}}
{{- printf "%s-credentials" (include "churn-pipeline.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "churn-pipeline.saslEnabled" -}}
{{- if hasPrefix "SASL" .Values.kafka.securityProtocol }}true{{ end }}
{{- end }}

{{- define "churn-pipeline.tlsEnabled" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") }}true{{ end }}
{{- end }}

{{/*
Where each credential comes from: {"kafkaSasl": {secret, usernameKey, passwordKey} | null,
"kafkaCa": {secret, key} | null, "registry": {...} | null, "inline": {key: value}}.
Fails on an incomplete or contradictory setting.
*/}}
{{- define "churn-pipeline.credentials" -}}
{{- $chartSecret := include "churn-pipeline.secretName" . }}
{{- $out := dict "inline" dict }}
{{- $k := .Values.kafka }}
{{- if include "churn-pipeline.saslEnabled" . }}
{{- if $k.sasl.existingSecret }}
{{- $_ := set $out "kafkaSasl" (dict "secret" $k.sasl.existingSecret "usernameKey" $k.sasl.usernameKey "passwordKey" $k.sasl.passwordKey) }}
{{- else if and $k.sasl.username $k.sasl.password }}
{{- $_ := set $out "kafkaSasl" (dict "secret" $chartSecret "usernameKey" "kafka-sasl-username" "passwordKey" "kafka-sasl-password") }}
{{- $_ := set $out.inline "kafka-sasl-username" $k.sasl.username }}
{{- $_ := set $out.inline "kafka-sasl-password" $k.sasl.password }}
{{- else }}
{{- fail (printf "kafka.securityProtocol %s needs credentials: set kafka.sasl.existingSecret (a Secret with keys %s and %s) or kafka.sasl.username and kafka.sasl.password" $k.securityProtocol $k.sasl.usernameKey $k.sasl.passwordKey) }}
{{- end }}
{{- end }}
{{- if or $k.tls.existingSecret $k.tls.ca }}
{{- if not (include "churn-pipeline.tlsEnabled" .) }}
{{- fail (printf "a Kafka CA is given (kafka.tls) but kafka.securityProtocol %s does not use TLS: use SSL or SASL_SSL, or drop the CA" $k.securityProtocol) }}
{{- end }}
{{- if $k.tls.existingSecret }}
{{- $_ := set $out "kafkaCa" (dict "secret" $k.tls.existingSecret "key" $k.tls.caKey) }}
{{- else }}
{{- $_ := set $out "kafkaCa" (dict "secret" $chartSecret "key" "kafka-ca.pem") }}
{{- $_ := set $out.inline "kafka-ca.pem" $k.tls.ca }}
{{- end }}
{{- end }}
{{- $r := .Values.schemaRegistry.auth }}
{{- if $r.existingSecret }}
{{- $_ := set $out "registry" (dict "secret" $r.existingSecret "usernameKey" $r.usernameKey "passwordKey" $r.passwordKey) }}
{{- else if and $r.username $r.password }}
{{- $_ := set $out "registry" (dict "secret" $chartSecret "usernameKey" "schema-registry-username" "passwordKey" "schema-registry-password") }}
{{- $_ := set $out.inline "schema-registry-username" $r.username }}
{{- $_ := set $out.inline "schema-registry-password" $r.password }}
{{- else if or $r.username $r.password }}
{{- fail "schemaRegistry.auth: give both username and password, or neither" }}
{{- end }}
{{- $out | toJson }}
{{- end }}

{{/*
The policy ConfigMap: {"name", "key"}, or empty for the image's default policy.
*/}}
{{- define "churn-pipeline.policy" -}}
{{- $p := .Values.policy }}
{{- if $p.existingConfigMap }}
{{- dict "name" $p.existingConfigMap "key" $p.key | toJson }}
{{- else if $p.json }}
{{- dict "name" (printf "%s-policy" (include "churn-pipeline.fullname" .) | trunc 63 | trimSuffix "-") "key" "policy.json" | toJson }}
{{- else }}
{{- dict | toJson }}
{{- end }}
{{- end }}

{{/*
Whether a Prometheus Operator object is rendered: enabled true, or auto with its API served.
dict "root" $ "enabled" value "api" "monitoring.coreos.com/v1/Kind".
*/}}
{{- define "churn-pipeline.monitoringOn" -}}
{{- if kindIs "bool" .enabled }}
{{- if .enabled }}true{{ end }}
{{- else if eq (toString .enabled) "auto" }}
{{- if .root.Capabilities.APIVersions.Has .api }}true{{ end }}
{{- else }}
{{- fail (printf "%s: enabled must be true, false or auto, not %q" .api (toString .enabled)) }}
{{- end }}
{{- end }}
