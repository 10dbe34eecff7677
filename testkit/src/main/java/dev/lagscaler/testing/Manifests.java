package dev.lagscaler.testing;

/** Kubernetes objects the tests and benchmarks create, as YAML documents ending in a separator, with no namespace. */
public final class Manifests {
    private Manifests() {
    }

    /**
     * Deployment {@code consumer-<i>} at {@code replicas} and a kafka ScaledObject {@code so-<i>} on it, with
     * {@code specLines} (each "key: value", one per line, may be empty) added to its spec; apply with {@code -n}.
     */
    public static String consumerAndScaledObject(int i, int replicas, String specLines, String bootstrap, String group,
                                                 String topic, int lagThreshold) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: consumer-%1$d}
                spec:
                  replicas: %2$d
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
                %3$s  triggers:
                  - type: kafka
                    metadata: {bootstrapServers: "%4$s", consumerGroup: %5$s, topic: %6$s, lagThreshold: "%7$d"}
                ---
                """.formatted(i, replicas, specLines.isBlank() ? "" : specLines.strip().indent(2), bootstrap, group, topic,
                lagThreshold);
    }
}
