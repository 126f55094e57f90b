{{/* The pod template shared by the Deployment and the StatefulSet. */}}
{{- define "callbridge.podTemplate" -}}
metadata:
  labels:
    {{- include "callbridge.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- /* A changed set of mounted files restarts the pods, as a changed env does. */}}
    checksum/secret-files: {{ toJson .Values.secretFiles | sha256sum | trunc 16 }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "callbridge.serviceAccountName" . }}
  # The bridge never talks to the Kubernetes API.
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ include "callbridge.terminationGracePeriodSeconds" . }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    # Volumes (the buffer's claim, the mounted files) are group-owned by the bridge's group.
    fsGroup: 65532
    fsGroupChangePolicy: OnRootMismatch
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: callbridge
      image: {{ include "callbridge.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      ports:
        - name: http
          containerPort: {{ include "callbridge.port" . }}
          protocol: TCP
      env:
        {{- /* The image sets it too; repeated so the mount below and the bridge always agree. */}}
        - name: CALLBRIDGE_DATA_DIR
          value: {{ include "callbridge.dataDir" . | quote }}
        {{- range $name, $value := .Values.env }}
        {{- if ne $name "CALLBRIDGE_DATA_DIR" }}
        - name: {{ $name }}
          value: {{ $value | toString | quote }}
        {{- end }}
        {{- end }}
        {{- range $name, $ref := .Values.secretFiles }}
        - name: {{ $name }}
          value: {{ include "callbridge.filePath" $name | quote }}
        {{- end }}
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 2
        failureThreshold: 30
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 10
        timeoutSeconds: 2
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: 5
        timeoutSeconds: 2
        failureThreshold: 2
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        runAsNonRoot: true
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: [ALL]
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        - name: data
          mountPath: {{ include "callbridge.dataDir" . | quote }}
        {{- if .Values.secretFiles }}
        - name: files
          mountPath: /etc/callbridge/files
          readOnly: true
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- if not (include "callbridge.buffer" .) }}
    {{- /* Deployment mode: the embedded broker's store lives and dies with the pod. */}}
    - name: data
      emptyDir:
        sizeLimit: {{ .Values.embeddedDataSizeLimit }}
    {{- end }}
    {{- if .Values.secretFiles }}
    - name: files
      projected:
        # Readable by the bridge's group (fsGroup) only.
        defaultMode: 0440
        sources:
          {{- range $name, $ref := .Values.secretFiles }}
          - secret:
              name: {{ $ref.secretName }}
              items:
                - key: {{ $ref.key }}
                  path: {{ include "callbridge.fileName" $name }}
          {{- end }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
