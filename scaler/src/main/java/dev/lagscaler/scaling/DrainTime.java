package dev.lagscaler.scaling;

/**
 * lagscaler's drain-time sizing ({@code drainWithinSeconds}): the replicas that consume what arrives and clear the
 * backlog within the target, from the measured produce rate and the measured records per second one replica
 * commits. Pure; the planner serves the result to the HPA as the value that makes it land there.
 */
public final class DrainTime {
    /** The replicas wanted, the per-replica rate used, and the arithmetic in words (for status and explain). */
    public record Sizing(int replicas, double perReplicaPerSecond, String explanation) {
    }

    private DrainTime() {
    }

    /**
     * What one replica commits per second. Whatever the consumers did, {@code consumed / replicas} is a floor (some
     * may have been starting, or idle for want of records). It is the rate itself only when they were busy the
     * whole window ({@code saturated}) with this count standing throughout ({@code settled}); then it replaces the
     * remembered rate, even downwards. Otherwise the remembered rate stands unless the floor is above it. Without a
     * memory, a floor from busy consumers is the first estimate (it errs towards more replicas); from idle ones,
     * which only shows what arrived, nothing is known (null).
     */
    public static Double perReplica(boolean saturated, boolean settled, Double consumedPerSecond, int currentReplicas,
                                    Double remembered) {
        if (currentReplicas <= 0 || consumedPerSecond == null || consumedPerSecond <= 0) {
            return remembered;
        }
        double floor = consumedPerSecond / currentReplicas;
        if (saturated && settled) {
            return floor;
        }
        if (remembered == null) {
            return saturated ? floor : null;
        }
        return Math.max(remembered, floor);
    }

    /**
     * ceil((backlog / drainWithin + produced) / perReplica), within [max(1, min), max] and, when
     * {@code partitionCap > 0}, at most the partition count. Null when a rate is unknown: the lag threshold decides.
     */
    public static Sizing size(long backlog, Double producedPerSecond, Double perReplicaPerSecond, long drainWithinSeconds,
                              int minReplicas, int maxReplicas, int partitionCap) {
        if (producedPerSecond == null || perReplicaPerSecond == null || perReplicaPerSecond <= 0) {
            return null;
        }
        double needed = (double) backlog / drainWithinSeconds + producedPerSecond;
        long raw = (long) Math.ceil(needed / perReplicaPerSecond - 1e-9);
        int replicas = (int) Math.min(Math.max(raw, Math.max(1, minReplicas)), maxReplicas);
        String bound = "";
        if (partitionCap > 0 && replicas > partitionCap) {
            replicas = partitionCap;
            bound = ", capped at the " + partitionCap + " partitions";
        } else if (replicas != raw) {
            bound = raw < replicas ? ", raised to minReplicaCount" : ", capped at maxReplicaCount";
        }
        return new Sizing(replicas, perReplicaPerSecond, String.format(java.util.Locale.ROOT,
                "%d records waiting / %d s + %.1f records/s arriving = %.1f records/s needed; %.1f records/s per replica"
                        + " -> %d replicas%s", backlog, drainWithinSeconds, producedPerSecond, needed, perReplicaPerSecond,
                replicas, bound));
    }
}
