package dev.lagscaler.lag;

import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.OffsetResetPolicy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * KEDA's kafka lag arithmetic (shared/docs/keda-semantics.md §2 and §3) as pure functions: per-partition lag,
 * the partition cap, even distribution, activation. No I/O, no clock.
 */
public final class LagArithmetic {
    private LagArithmetic() {
    }

    /**
     * Computes a trigger's lag from the offsets of the partitions it considers (already filtered by
     * partitionLimitation). {@code memory} is what this trigger's previous computation returned.
     */
    public static LagResult compute(KafkaTriggerSettings settings, List<PartitionOffsets> offsets,
                                    PersistentLagMemory memory) {
        long totalLag = 0;
        long totalLagWithPersistent = 0;
        int partitionCount = 0;
        int partitionsWithLag = 0;
        List<PartitionLag> lags = new ArrayList<>(offsets.size());
        Map<TopicPartitionKey, Long> memoryUpdates = new HashMap<>();
        for (PartitionOffsets p : offsets) {
            PartitionLag lag = partitionLag(settings, p, memory, memoryUpdates);
            lags.add(lag);
            if (lag.rule() == PartitionLag.Rule.MISSING_LATEST) {
                continue;
            }
            partitionCount++;
            totalLag += lag.lag();
            totalLagWithPersistent += lag.lagWithPersistent();
            if (lag.lag() > 0) {
                partitionsWithLag++;
            }
        }

        long rawTotalLag = totalLag;
        long upperBound = -1;
        boolean capped = false;
        long threshold = settings.lagThreshold();
        if (!settings.allowIdleConsumers() || settings.limitToPartitionsWithLag()) {
            upperBound = settings.limitToPartitionsWithLag() ? partitionsWithLag : partitionCount;
            // Integer division, as KEDA does it: 1,009 lag at threshold 10 over 100 partitions is not capped.
            if (totalLag / threshold > upperBound) {
                totalLag = upperBound * threshold;
                capped = true;
            }
        }
        long factor = -1;
        if (settings.ensureEvenDistributionOfPartitions()) {
            factor = evenDistributionFactor(totalLag, threshold, partitionCount);
            totalLag = factor * threshold;
        }
        boolean active = totalLagWithPersistent > settings.activationLagThreshold();
        return new LagResult(totalLag, rawTotalLag, totalLagWithPersistent, partitionCount, partitionsWithLag,
                upperBound, capped, factor, active, lags, memory.with(memoryUpdates));
    }

    /**
     * The smallest divisor f of the partition count with f × threshold ≥ totalLag; the partition count itself when
     * none is (and 0 when there are no partitions).
     */
    static long evenDistributionFactor(long totalLag, long threshold, long partitionCount) {
        for (long f = 1; f <= partitionCount; f++) {
            if (partitionCount % f == 0 && f * threshold >= totalLag) {
                return f;
            }
        }
        return partitionCount;
    }

    private static PartitionLag partitionLag(KafkaTriggerSettings settings, PartitionOffsets p,
                                             PersistentLagMemory memory, Map<TopicPartitionKey, Long> memoryUpdates) {
        // KEDA walks the log-end answer, so a partition missing from it adds nothing and is not counted.
        if (!p.hasLatest()) {
            return new PartitionLag(p, 0, 0, PartitionLag.Rule.MISSING_LATEST);
        }
        if (!p.hasCommitted()) {
            boolean latestPolicy = settings.offsetResetPolicy() == OffsetResetPolicy.LATEST;
            // Earliest: the retained records, log end minus log start (KEDA 2.21), or the log end where the log
            // start is unknown; retention may move the start past the end read a moment before, hence the floor.
            long lag = settings.scaleToZeroOnInvalidOffset() ? 0 : latestPolicy ? 1
                    : p.earliest() >= 0 ? Math.max(0, p.latest() - p.earliest()) : p.latest();
            return new PartitionLag(p, lag, lag,
                    latestPolicy ? PartitionLag.Rule.NO_COMMIT_LATEST : PartitionLag.Rule.NO_COMMIT_EARLIEST);
        }
        // A committed offset beyond the log end (a topic recreated, a log truncated) counts 0, not a negative lag
        // that would hide other partitions' backlog: one of the differences from KEDA the README lists.
        long lag = Math.max(0, p.latest() - p.committed());
        if (settings.excludePersistentLag()) {
            Long previous = memory.previousCommitted().get(p.key());
            if (previous != null && previous == p.committed()) {
                return new PartitionLag(p, 0, lag, PartitionLag.Rule.PERSISTENT);
            }
            memoryUpdates.put(p.key(), p.committed());
        }
        return new PartitionLag(p, lag, lag, PartitionLag.Rule.COMMITTED);
    }
}
