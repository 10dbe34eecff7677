package dev.lagscaler.controller;

import dev.lagscaler.Defaults;
import java.time.Duration;

/**
 * How the operator runs. {@code clusterObjectNamespace} holds the Secrets of ClusterTriggerAuthentications (KEDA's
 * KEDA_CLUSTER_OBJECT_NAMESPACE); the Lease for leader election lives there too.
 */
public record OperatorConfig(int workers, Duration fastActivationInterval, String clusterObjectNamespace,
                             String leaseName, String identity, Duration leaseDuration) {
    public static OperatorConfig defaults(String identity) {
        return new OperatorConfig(4, Defaults.FAST_ACTIVATION_INTERVAL, "lagscaler", "lagscaler-operator", identity,
                Duration.ofSeconds(15));
    }

    public OperatorConfig withNamespace(String namespace) {
        return new OperatorConfig(workers, fastActivationInterval, namespace, leaseName, identity, leaseDuration);
    }

    public OperatorConfig withFastActivationInterval(Duration interval) {
        return new OperatorConfig(workers, interval, clusterObjectNamespace, leaseName, identity, leaseDuration);
    }

    public OperatorConfig withLeaseDuration(Duration duration) {
        return new OperatorConfig(workers, fastActivationInterval, clusterObjectNamespace, leaseName, identity, duration);
    }
}
