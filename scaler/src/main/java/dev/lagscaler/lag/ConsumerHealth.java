package dev.lagscaler.lag;

import java.time.Duration;
import java.util.Map;

/**
 * How a consumer group is doing on a trigger's partitions, Burrow's way: each partition is judged over a sliding
 * window of polls, the group takes its worst partition. Built by {@link CommitWindow}; null fields mean "not judged
 * yet". The summary names the worst partition and why, for the status condition, Events and {@code explain}.
 */
public record ConsumerHealth(Status status, Map<TopicPartitionKey, Status> perPartition, String summary,
                             Throughput throughput) {
    public static final ConsumerHealth UNKNOWN = new ConsumerHealth(Status.OK, Map.of(), "not judged yet", Throughput.UNKNOWN);

    public ConsumerHealth {
        perPartition = Map.copyOf(perPartition);
    }

    public ConsumerHealth(Status status, Map<TopicPartitionKey, Status> perPartition, String summary) {
        this(status, perPartition, summary, Throughput.UNKNOWN);
    }

    /**
     * Records written to and committed on the trigger's partitions per second over the window (null until two polls
     * a second apart). {@code saturated}: records waited on every partition at every poll of the window, so the
     * consumers were busy and {@code consumedPerSecond} is what they can do, not merely what arrived.
     */
    public record Throughput(Double producedPerSecond, Double consumedPerSecond, double windowSeconds, boolean saturated) {
        public static final Throughput UNKNOWN = new Throughput(null, null, 0, false);

        public boolean known() {
            return producedPerSecond != null && consumedPerSecond != null;
        }
    }

    /** Burrow's partition states, in rising severity (the group shows the most severe). */
    public enum Status {
        /** Nothing waits, or the committed offset moves and the lag does not only grow. */
        OK("Healthy"),
        /**
         * The committed offset moves but the lag grew (or stood) at every poll of a full window, never zero: the
         * consumers fall behind.
         */
        WARN("LagGrowing"),
        /** Records wait and the committed offset has not moved for {@link Settings#stallAfter()}. */
        STALL("Stalled"),
        /** Records wait and the committed offset has not moved for {@link Settings#stopAfter()}: nobody commits. */
        STOP("Stopped"),
        /** The committed offset moved back within the window (a reset, a replay, a rebalance that lost commits). */
        REWIND("Rewound");

        private final String reason;

        Status(String reason) {
            this.reason = reason;
        }

        /** The condition and Event reason, CamelCase as Kubernetes reasons are. */
        public String reason() {
            return reason;
        }

        /** Stalled and stopped consumers are not helped by more replicas: the planner holds the count. */
        public boolean holdsReplicas() {
            return this == STALL || this == STOP;
        }
    }

    /**
     * The window: {@code polls} samples judge growth (WARN); the committed offset standing still for
     * {@code stallAfter} while records wait is STALL, for {@code stopAfter} STOP.
     */
    public record Settings(int polls, Duration stallAfter, Duration stopAfter) {
        /** Burrow's window of 10 offsets; a minute to stall (longer than a consumer's start-up), 5 minutes to stop. */
        public static final Settings DEFAULTS = new Settings(10, Duration.ofSeconds(60), Duration.ofMinutes(5));

        public Settings {
            if (polls < 2) {
                throw new IllegalArgumentException("the health window needs at least 2 polls, got " + polls);
            }
            if (stopAfter.compareTo(stallAfter) < 0) {
                throw new IllegalArgumentException("stopAfter (" + stopAfter + ") must not be shorter than stallAfter ("
                        + stallAfter + ")");
            }
        }
    }

    public boolean judged() {
        return !perPartition.isEmpty();
    }
}
