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
     * What one replica commits per second: measured when the consumers were busy for the whole window (records
     * waited on every partition, so they consumed all they could), else the last such measurement (null if none).
     */
    public static Double perReplica(boolean saturated, Double consumedPerSecond, int currentReplicas, Double remembered) {
        if (saturated && currentReplicas > 0 && consumedPerSecond != null && consumedPerSecond > 0) {
            return consumedPerSecond / currentReplicas;
        }
        return remembered;
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
