package dev.lagscaler.bench;

/** The Kubernetes objects the benchmarks create: a Deployment at zero and a kafka ScaledObject scaling it. */
final class BenchObjects {
    private BenchObjects() {
    }

    /**
     * Deployment {@code consumer-<i>} (replicas 0) and ScaledObject {@code so-<i>} on it, KEDA's defaults otherwise
     * (pollingInterval 30 s, cooldownPeriod 300 s), lagThreshold 50; YAML documents ending in a separator, with no
     * namespace (apply them with {@code -n}).
     */
    static String consumerAndScaledObject(int i, String bootstrap, String group, String topic) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: consumer-%1$d}
                spec:
                  replicas: 0
                  selector: {matchLabels: {app: consumer-%1$d}}
                  template:
                    metadata: {labels: {app: consumer-%1$d}}
                    spec: {containers: [{name: consumer, image: "consumer:1.0"}]}
                ---
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: so-%1$d}
                spec:
                  scaleTargetRef: {name: consumer-%1$d}
                  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "%2$s", consumerGroup: %3$s, topic: %4$s, lagThreshold: "50"}
                ---
                """.formatted(i, bootstrap, group, topic);
    }
}
