package dev.lagscaler.lag;

/**
 * One partition's contribution: {@code lag} counts for the metric, {@code lagWithPersistent} for activation
 * (they differ only when excludePersistentLag drops a stuck partition). {@code rule} says which KEDA rule applied.
 */
public record PartitionLag(PartitionOffsets offsets, long lag, long lagWithPersistent, Rule rule) {
    public enum Rule {
        /** latest − committed. */
        COMMITTED,
        /** No committed offset, offsetResetPolicy latest: 1 (0 with scaleToZeroOnInvalidOffset). */
        NO_COMMIT_LATEST,
        /** No committed offset, offsetResetPolicy earliest: the log-end offset (0 with scaleToZeroOnInvalidOffset). */
        NO_COMMIT_EARLIEST,
        /** The partition was missing from the log-end answer: 0, and it is not counted. */
        MISSING_LATEST,
        /** excludePersistentLag: the committed offset has not moved since the previous poll, so 0 for the metric. */
        PERSISTENT
    }
}
