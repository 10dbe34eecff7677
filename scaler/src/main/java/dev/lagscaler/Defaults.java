package dev.lagscaler;

import java.time.Duration;

/** KEDA's defaults, and ours where KEDA has none: the one place each default value is written down. */
public final class Defaults {
    public static final long LAG_THRESHOLD = 10;
    public static final long ACTIVATION_LAG_THRESHOLD = 0;
    public static final String KAFKA_VERSION = "1.0.0";
    public static final Duration POLLING_INTERVAL = Duration.ofSeconds(30);
    public static final Duration COOLDOWN_PERIOD = Duration.ofSeconds(300);
    public static final int MAX_REPLICA_COUNT = 100;
    /** Ours: how often groups of targets at zero are polled, so activation does not wait for pollingInterval. */
    public static final Duration FAST_ACTIVATION_INTERVAL = Duration.ofSeconds(1);
    /**
     * How often an active target's kafka triggers are polled when a trigger has {@code useCachedMetrics: false}
     * (KEDA's default: it reads Kafka at each HPA query); the value the HPA reads is then at most this old.
     */
    public static final Duration FRESH_METRIC_INTERVAL = Duration.ofSeconds(2);
    /** Ours: the longest any single Admin call of a poll may take before the poll counts as failed. */
    public static final Duration KAFKA_API_TIMEOUT = Duration.ofSeconds(10);
    /**
     * Ours: the leader's Lease. Shorter than client-go's 15 s so a standby leads within about 8 s of a leader's death
     * (renewals every 1 s, a renew deadline of 4 s).
     */
    public static final Duration LEASE_DURATION = Duration.ofSeconds(6);

    private Defaults() {
    }
}
