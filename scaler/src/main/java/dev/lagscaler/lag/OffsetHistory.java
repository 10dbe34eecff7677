package dev.lagscaler.lag;

import java.util.HashMap;
import java.util.Map;

/**
 * Where each partition's log end was, and when, from the polls already made: the way kafka-lag-exporter estimates
 * time lag. The time a committed offset was written is interpolated between the two samples around it; how long ago
 * that was is the partition's lag in seconds. A committed offset older than the oldest sample has no estimate (the
 * history is too short): no figure is made up. Bounded: {@link #SAMPLES} samples per partition, at least a second
 * apart. Not thread-safe: one per cluster poller, used on its poll thread.
 */
public final class OffsetHistory {
    static final int SAMPLES = 30;
    private static final long MIN_SPACING_MS = 1000;

    private final Map<TopicPartitionKey, Ring> rings = new HashMap<>();

    /** A ring of (offset, time) samples, oldest first once full. */
    private static final class Ring {
        final long[] offsets = new long[SAMPLES];
        final long[] millis = new long[SAMPLES];
        int start;
        int size;

        long offset(int i) {
            return offsets[(start + i) % SAMPLES];
        }

        long time(int i) {
            return millis[(start + i) % SAMPLES];
        }

        void add(long offset, long at) {
            if (size > 0 && at - time(size - 1) < MIN_SPACING_MS && offset == offset(size - 1)) {
                return;
            }
            if (size > 0 && at - time(size - 1) < MIN_SPACING_MS) {
                offsets[(start + size - 1) % SAMPLES] = offset; // the newest sample moves forward instead
                millis[(start + size - 1) % SAMPLES] = at;
                return;
            }
            if (size == SAMPLES) {
                start = (start + 1) % SAMPLES;
                size--;
            }
            offsets[(start + size) % SAMPLES] = offset;
            millis[(start + size) % SAMPLES] = at;
            size++;
        }
    }

    /**
     * A partition whose newest sample is older than this is no longer polled (its trigger or topic went): twice the
     * longest pollingInterval the CRD allows (86,400 s), so a slowly polled partition keeps its history.
     */
    static final long FORGET_AFTER_MS = 2 * 86_400_000L;
    private long lastSweepMillis;

    /** Records a partition's log end seen at {@code atMillis}; once an hour, forgets partitions no longer polled. */
    public void record(TopicPartitionKey partition, long logEnd, long atMillis) {
        rings.computeIfAbsent(partition, k -> new Ring()).add(logEnd, atMillis);
        if (atMillis - lastSweepMillis > 3_600_000L) {
            rings.values().removeIf(r -> r.time(r.size - 1) < atMillis - FORGET_AFTER_MS);
            lastSweepMillis = atMillis;
        }
    }

    /**
     * Seconds since the record at {@code committed} was written, as of {@code nowMillis}: 0 when nothing waits, null
     * when the history does not reach back to it.
     */
    public Double secondsBehind(TopicPartitionKey partition, long committed, long logEnd, long nowMillis) {
        if (committed >= logEnd) {
            return 0.0;
        }
        Ring ring = rings.get(partition);
        if (ring == null || ring.size == 0 || committed < ring.offset(0)) {
            return null;
        }
        // The first sample whose log end passed the committed offset: that record was written between it and the
        // sample before.
        for (int i = 0; i < ring.size; i++) {
            if (ring.offset(i) > committed) {
                if (i == 0) {
                    return null;
                }
                long o1 = ring.offset(i - 1);
                long t1 = ring.time(i - 1);
                double fraction = (double) (committed - o1) / (ring.offset(i) - o1);
                double written = t1 + fraction * (ring.time(i) - t1);
                return Math.max(0, (nowMillis - written) / 1000.0);
            }
        }
        return null; // the log end moved past it after the last sample: the next poll will know
    }

    /** How far back the history reaches for a partition, in seconds (0 without samples). */
    public double spanSeconds(TopicPartitionKey partition) {
        Ring ring = rings.get(partition);
        return ring == null || ring.size < 2 ? 0 : (ring.time(ring.size - 1) - ring.time(0)) / 1000.0;
    }
}
