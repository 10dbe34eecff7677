package dev.lagscaler.lag;

import java.util.Map;

/**
 * How long the oldest waiting record of a trigger has waited, estimated from the log-end history
 * ({@link OffsetHistory}): {@code maxSeconds} over the partitions with lag, per partition in {@code perPartition}.
 * {@code maxSeconds} is null, with the reason, when a partition with lag has no estimate yet.
 */
public record TimeLag(Double maxSeconds, Map<TopicPartitionKey, Double> perPartition, String unknownReason) {
    public static final TimeLag UNKNOWN = new TimeLag(null, Map.of(), "not estimated");

    public TimeLag {
        perPartition = Map.copyOf(perPartition);
    }

    /** The estimate over the partitions of a measured trigger, from the history as of {@code nowMillis}. */
    public static TimeLag of(LagResult lag, OffsetHistory history, long nowMillis) {
        Map<TopicPartitionKey, Double> per = new java.util.HashMap<>();
        double max = 0;
        String unknown = null;
        for (PartitionLag p : lag.partitions()) {
            if (!p.offsets().hasLatest()) {
                continue;
            }
            if (!p.offsets().hasCommitted()) {
                if (p.lag() > 0) {
                    unknown = "a partition without a committed offset";
                }
                continue;
            }
            Double seconds = history.secondsBehind(p.offsets().key(), p.offsets().committed(), p.offsets().latest(), nowMillis);
            if (seconds == null) {
                unknown = String.format("the log-end history (%.0f s) does not reach back to %s's committed offset",
                        history.spanSeconds(p.offsets().key()), p.offsets().key());
                continue;
            }
            per.put(p.offsets().key(), seconds);
            max = Math.max(max, seconds);
        }
        return new TimeLag(unknown == null ? max : null, per, unknown);
    }
}
