{{- define "gpumon.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "gpumon.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "gpumon.selectorLabels" . }}
{{- end -}}

{{- define "gpumon.selectorLabels" -}}
app.kubernetes.io/name: gpumon
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "gpumon.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/*
Where each secret lands as a file; the *_FILE variables name these paths (runtime/src/config.ts reads them at start).
*/}}
{{- define "gpumon.secretDir" -}}/etc/gpumon/secrets{{- end -}}

{{/* Kafka and registry settings as environment variables; passwords only as *_FILE paths. */}}
{{- define "gpumon.pipelineEnv" -}}
{{- $v := .root.Values -}}
{{- $l := include "gpumon.logins" . | fromYaml -}}
- name: KAFKA_BROKERS
  value: {{ $v.kafka.brokers | quote }}
- name: KAFKA_SSL
  value: {{ $v.kafka.ssl | quote }}
{{- if $v.kafka.caSecret.name }}
- name: KAFKA_SSL_CA_FILE
  value: {{ include "gpumon.secretDir" . }}/kafka-ca.pem
{{- end }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $v.kafka.sasl.mechanism | quote }}
{{- if $l.saslUser }}
- name: KAFKA_SASL_USERNAME
  value: {{ $l.saslUser | quote }}
{{- end }}
{{- if $l.saslSecret.name }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: {{ include "gpumon.secretDir" . }}/kafka-sasl-password
{{- end }}
{{- if $v.topicPrefix }}
- name: GPUMON_TOPIC_PREFIX
  value: {{ $v.topicPrefix | quote }}
{{- end }}
- name: SCHEMA_REGISTRY_URL
  value: {{ $v.schemaRegistry.url | quote }}
{{- if $l.registryUser }}
- name: SCHEMA_REGISTRY_USERNAME
  value: {{ $l.registryUser | quote }}
{{- end }}
{{- if $l.registrySecret.name }}
- name: SCHEMA_REGISTRY_PASSWORD_FILE
  value: {{ include "gpumon.secretDir" . }}/schema-registry-password
{{- end }}
{{- end -}}

{{- define "gpumon.databaseEnv" -}}
{{- $v := .root.Values -}}
- name: DATABASE_URL_FILE
  value: {{ include "gpumon.secretDir" . }}/database-url
- name: DATABASE_SSL
  value: {{ $v.database.ssl | quote }}
{{- if $v.database.caSecret.name }}
- name: DATABASE_SSL_CA_FILE
  value: {{ include "gpumon.secretDir" . }}/database-ca.pem
{{- end }}
{{- end -}}

{{/*
The logins a component uses: the global ones unless `sasl` / `registry` (the agent's own Kafka login,
the topics Job's admin logins) name their own.
*/}}
{{- define "gpumon.logins" -}}
{{- $v := .root.Values -}}
{{- $sasl := .sasl | default dict -}}
{{- $registry := .registry | default dict -}}
saslUser: {{ $sasl.username | default $v.kafka.sasl.username | quote }}
saslSecret: {{ ternary $sasl.passwordSecret $v.kafka.sasl.passwordSecret (not (empty ($sasl.passwordSecret | default dict).name)) | toJson }}
registryUser: {{ $registry.username | default $v.schemaRegistry.username | quote }}
registrySecret: {{ ternary $registry.passwordSecret $v.schemaRegistry.passwordSecret (not (empty ($registry.passwordSecret | default dict).name)) | toJson }}
{{- end -}}

{{/* The Secret keys a component reads as files, as projected volume sources; empty when it needs none. */}}
{{- define "gpumon.secretSources" -}}
{{- $v := .root.Values -}}
{{- $l := include "gpumon.logins" . | fromYaml -}}
{{- if $v.kafka.caSecret.name }}
- secret:
    name: {{ $v.kafka.caSecret.name }}
    items: [{ key: {{ $v.kafka.caSecret.key }}, path: kafka-ca.pem }]
{{- end }}
{{- if $l.saslSecret.name }}
- secret:
    name: {{ $l.saslSecret.name }}
    items: [{ key: {{ $l.saslSecret.key }}, path: kafka-sasl-password }]
{{- end }}
{{- if $l.registrySecret.name }}
- secret:
    name: {{ $l.registrySecret.name }}
    items: [{ key: {{ $l.registrySecret.key }}, path: schema-registry-password }]
{{- end }}
{{- range .files }}
- secret:
    name: {{ .name }}
    items: [{ key: {{ .key }}, path: {{ .path }} }]
{{- end }}
{{- if .database }}
- secret:
    name: {{ required "database.urlSecret.name: the Secret holding the sink's DATABASE_URL" $v.database.urlSecret.name }}
    items: [{ key: {{ $v.database.urlSecret.key }}, path: database-url }]
{{- if $v.database.caSecret.name }}
- secret:
    name: {{ $v.database.caSecret.name }}
    items: [{ key: {{ $v.database.caSecret.key }}, path: database-ca.pem }]
{{- end }}
{{- end }}
{{- end -}}

{{/* The secrets volume, read-only files under gpumon.secretDir (mode 0440). */}}
{{- define "gpumon.secretVolume" -}}
{{- with include "gpumon.secretSources" . }}
- name: secrets
  projected:
    defaultMode: 0440
    sources:
      {{- . | trim | nindent 6 }}
{{- end }}
{{- end -}}

{{- define "gpumon.secretMount" -}}
{{- if include "gpumon.secretSources" . }}
- name: secrets
  mountPath: {{ include "gpumon.secretDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "gpumon.extraEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* What a consumer needs of the node: nothing; it runs as an unprivileged user with no capabilities. */}}
{{- define "gpumon.restrictedSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
A Deployment of one consumer: dict root, component, args, replicas, resources, env, database (bool),
config (a ConfigMap name mounted at /etc/gpumon/config, or ""), files (more Secret keys as files: name, key, path).
*/}}
{{- define "gpumon.deployment" -}}
{{- $v := .root.Values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "gpumon.fullname" .root }}-{{ .component }}
  labels:
    {{- include "gpumon.labels" . | nindent 4 }}
spec:
  replicas: {{ .replicas }}
  selector:
    matchLabels:
      {{- include "gpumon.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "gpumon.selectorLabels" . | nindent 8 }}
      {{- with $v.deployment.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      automountServiceAccountToken: false
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        fsGroup: 65532
      # A consumer that stops commits what it finished; the group hands its partitions on.
      terminationGracePeriodSeconds: 60
      containers:
        - name: {{ .component }}
          image: {{ include "gpumon.image" .root }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args: {{ toJson .args }}
          env:
            {{- include "gpumon.pipelineEnv" . | trim | nindent 12 }}
            {{- if .database }}
            {{- include "gpumon.databaseEnv" . | trim | nindent 12 }}
            {{- end }}
            - name: GPUMON_METRICS_PORT
              value: {{ $v.deployment.metricsPort | quote }}
            # A bounded heap keeps a consumer catching up under its memory limit; a young generation of
            # its own size rather than V8's 2 MiB under this limit, and a floor under the old one's limit
            # for a full collection, save CPU (docs/scaling.md#memory).
            - name: NODE_OPTIONS
              value: {{ printf "--max-old-space-size=%v --max-semi-space-size=%v --initial-old-space-size=%v" $v.deployment.heapMb $v.deployment.semiSpaceMb $v.deployment.initialOldSpaceMb | quote }}
            - name: MALLOC_ARENA_MAX
              value: "2"
            # Blocks from 128 KiB on (fetch responses) mapped and given back when freed, not kept in the arenas.
            - name: MALLOC_MMAP_THRESHOLD_
              value: "131072"
            {{- with .env }}
            {{- include "gpumon.extraEnv" . | trim | nindent 12 }}
            {{- end }}
          ports:
            - name: metrics
              containerPort: {{ $v.deployment.metricsPort }}
          # Ready: its dependencies answer and it is not paused. Alive: the process answers at all, so an
          # outage of Kafka or the database pauses it (not ready) instead of restarting it.
          readinessProbe:
            httpGet: { path: /readyz, port: metrics }
            periodSeconds: 10
          livenessProbe:
            httpGet: { path: /livez, port: metrics }
            initialDelaySeconds: 30
            periodSeconds: 20
            failureThreshold: 6
          resources:
            {{- toYaml .resources | nindent 12 }}
          securityContext:
            {{- include "gpumon.restrictedSecurityContext" . | nindent 12 }}
          volumeMounts:
            {{- with include "gpumon.secretMount" . | trim }}{{ . | nindent 12 }}{{- end }}
            - name: tmp
              mountPath: /tmp
            {{- if .config }}
            - name: config
              mountPath: /etc/gpumon/config
              readOnly: true
            {{- end }}
      volumes:
        {{- with include "gpumon.secretVolume" . | trim }}{{ . | nindent 8 }}{{- end }}
        - name: tmp
          emptyDir: { sizeLimit: 64Mi }
        {{- if .config }}
        - name: config
          configMap:
            name: {{ .config }}
        {{- end }}
      {{- with $v.deployment.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.deployment.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.deployment.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "gpumon.fullname" .root }}-{{ .component }}
  labels:
    {{- include "gpumon.labels" . | nindent 4 }}
spec:
  clusterIP: None
  selector:
    {{- include "gpumon.selectorLabels" . | nindent 4 }}
  ports:
    - name: metrics
      port: {{ $v.deployment.metricsPort }}
      targetPort: metrics
{{- end -}}
