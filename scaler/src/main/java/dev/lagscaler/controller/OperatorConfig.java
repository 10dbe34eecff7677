package dev.lagscaler.controller;

import dev.lagscaler.Defaults;
import java.time.Duration;

/**
 * How the operator runs. {@code clusterObjectNamespace} holds the Secrets of ClusterTriggerAuthentications (KEDA's
 * KEDA_CLUSTER_OBJECT_NAMESPACE); the Lease for leader election lives there too. {@code sharding}: every replica acts on
 * its share of the objects ({@link ShardMembership}, its Lease {@code <leaseName>-<identity>}) instead of one leader
 * on all of them.
 */
public record OperatorConfig(int workers, Duration fastActivationInterval, String clusterObjectNamespace,
                             String leaseName, String identity, Duration leaseDuration, boolean wakeUpConsumer,
                             Duration cacheSyncTimeout, Sharding sharding) {
    /** How long a new leader's caches may take to sync before it gives the Lease up (client-java's default is 30 s). */
    public static final Duration DEFAULT_CACHE_SYNC_TIMEOUT = Duration.ofMinutes(2);

    /** ScaledObject reconciles run at once unless told otherwise (--workers). */
    public static final int DEFAULT_WORKERS = 16;

    public static OperatorConfig defaults(String identity) {
        return new OperatorConfig(DEFAULT_WORKERS, Defaults.FAST_ACTIVATION_INTERVAL, "lagscaler", "lagscaler-operator", identity,
                Defaults.LEASE_DURATION, true, DEFAULT_CACHE_SYNC_TIMEOUT, null);
    }

    /** How many reconciles of ScaledObjects run at once (at least 1). */
    public OperatorConfig withWorkers(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("workers: at least 1, got " + count);
        }
        return new OperatorConfig(count, fastActivationInterval, clusterObjectNamespace, leaseName, identity,
                leaseDuration, wakeUpConsumer, cacheSyncTimeout, sharding);
    }

    public OperatorConfig withCacheSyncTimeout(Duration timeout) {
        return new OperatorConfig(workers, fastActivationInterval, clusterObjectNamespace, leaseName, identity,
                leaseDuration, wakeUpConsumer, timeout, sharding);
    }

    /** Whether a wake-up consumer per Kafka cluster parks on the partitions of targets at zero (default on). */
    public OperatorConfig withWakeUpConsumer(boolean on) {
        return new OperatorConfig(workers, fastActivationInterval, clusterObjectNamespace, leaseName, identity, leaseDuration, on,
                cacheSyncTimeout, sharding);
    }

    /**
     * How often the leader renews and a standby looks: a sixth of the lease, at most 2 s (client-go's default). With
     * the 6 s default, a standby leads at most about lease + 2 x retry = 8 s after a leader dies, and 1 s after one
     * releases the Lease; it costs one renewal a second.
     */
    public Duration leaseRetryPeriod() {
        Duration sixth = leaseDuration.dividedBy(6);
        return sixth.compareTo(Duration.ofSeconds(2)) > 0 ? Duration.ofSeconds(2) : sixth;
    }

    public OperatorConfig withNamespace(String namespace) {
        return new OperatorConfig(workers, fastActivationInterval, namespace, leaseName, identity, leaseDuration, wakeUpConsumer,
                cacheSyncTimeout, sharding);
    }

    public OperatorConfig withFastActivationInterval(Duration interval) {
        return new OperatorConfig(workers, interval, clusterObjectNamespace, leaseName, identity, leaseDuration, wakeUpConsumer,
                cacheSyncTimeout, sharding);
    }

    /** Active-active: each replica acts on its share of the objects (null, the default: one leader acts on all). */
    public OperatorConfig withSharding(Sharding sharding) {
        return new OperatorConfig(workers, fastActivationInterval, clusterObjectNamespace, leaseName, identity, leaseDuration,
                wakeUpConsumer, cacheSyncTimeout, sharding);
    }

    public boolean sharded() {
        return sharding != null;
    }

    /**
     * How objects are shared out: each ScaledObject and ScaledJob by its uid. With {@code serverSide}, when the
     * apiserver filters by shard (ShardedListAndWatch), a replica lists and watches only its share of them; otherwise
     * it receives them all and keeps its share.
     */
    public record Sharding(boolean serverSide) {
    }

    public OperatorConfig withLeaseDuration(Duration duration) {
        return new OperatorConfig(workers, fastActivationInterval, clusterObjectNamespace, leaseName, identity, duration,
                wakeUpConsumer, cacheSyncTimeout, sharding);
    }
}
