package dev.lagscaler.lag;

import java.util.List;

/**
 * A trigger's lag, computed from one poll by {@link LagArithmetic}: the metric value the HPA sees, whether the
 * trigger is active, and every step that led there (for {@code lagscaler explain}).
 *
 * @param metricValue            totalLag after the partition cap and even distribution: the External metric's value
 * @param rawTotalLag            Σ lag before the cap and even distribution
 * @param totalLagWithPersistent Σ lag including persistent lag: compared with activationLagThreshold
 * @param partitionCount         partitions counted (those in the log-end answer, after partitionLimitation)
 * @param upperBound             the cap's bound in replicas, or -1 when allowIdleConsumers disables the cap
 * @param capped                 whether the cap lowered the value
 * @param evenDistributionFactor the replica count chosen by ensureEvenDistributionOfPartitions, or -1
 * @param next                   the persistent-lag memory to pass to the next computation of this trigger
 */
public record LagResult(
        long metricValue,
        long rawTotalLag,
        long totalLagWithPersistent,
        int partitionCount,
        int partitionsWithLag,
        long upperBound,
        boolean capped,
        long evenDistributionFactor,
        boolean active,
        List<PartitionLag> partitions,
        PersistentLagMemory next) {

    public LagResult {
        partitions = List.copyOf(partitions);
    }
}
