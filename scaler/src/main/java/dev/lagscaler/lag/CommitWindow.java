package dev.lagscaler.lag;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The last polls of each consumer group's committed offsets and lag per partition, judged Burrow's way into a
 * {@link ConsumerHealth}. kafka-clients' offset fetch does not say when an offset was committed, so "not moved" is
 * measured from the polls: from the first poll that saw the current committed offset. Not thread-safe: one per
 * cluster poller, used on its poll thread. Partitions not polled for {@code 2 x stopAfter} are forgotten.
 */
public final class CommitWindow {
    private final ConsumerHealth.Settings settings;
    private final Map<Key, Ring> rings = new HashMap<>();
    private long lastSweepMillis;

    private record Key(String group, TopicPartitionKey partition) {
    }

    /** One partition's state and, when not OK, the sentence that says why. */
    private record Verdict(ConsumerHealth.Status status, String finding) {
        static final Verdict OK = new Verdict(ConsumerHealth.Status.OK, null);
    }

    /**
     * Up to {@code polls} samples, oldest first once full, and since when records have waited on the newest
     * committed offset.
     */
    private static final class Ring {
        final long[] committed;
        final long[] lag;
        final long[] millis;
        int start;
        int size;
        long waitingSince;

        Ring(int polls) {
            committed = new long[polls];
            lag = new long[polls];
            millis = new long[polls];
        }

        int at(int i) {
            return (start + i) % committed.length;
        }

        void add(long offset, long lagNow, long now) {
            if (size > 0 && millis[at(size - 1)] == now) {
                return; // a second trigger on the same group in the same poll
            }
            // The clock runs while records wait on one committed offset: it restarts when the offset moves, and
            // when records arrive after nothing waited (a consumer cannot commit what was not there).
            if (size == 0 || committed[at(size - 1)] != offset || lag[at(size - 1)] <= 0) {
                waitingSince = now;
            }
            if (size == committed.length) {
                start = (start + 1) % committed.length;
                size--;
            }
            int slot = at(size);
            committed[slot] = offset;
            lag[slot] = lagNow;
            millis[slot] = now;
            size++;
        }
    }

    public CommitWindow(ConsumerHealth.Settings settings) {
        this.settings = settings;
    }

    /** One poll's view of a partition: the group's committed offset and its lag then. */
    public void record(String group, TopicPartitionKey partition, long committed, long lag, long nowMillis) {
        rings.computeIfAbsent(new Key(group, partition), k -> new Ring(settings.polls())).add(committed, lag, nowMillis);
        if (nowMillis - lastSweepMillis > settings.stopAfter().toMillis()) {
            forgetOlderThan(nowMillis - 2 * settings.stopAfter().toMillis());
            lastSweepMillis = nowMillis;
        }
    }

    private void forgetOlderThan(long millis) {
        for (Iterator<Ring> it = rings.values().iterator(); it.hasNext(); ) {
            Ring r = it.next();
            if (r.millis[r.at(r.size - 1)] < millis) {
                it.remove();
            }
        }
    }

    /**
     * The group's health on the measured partitions (those it has committed on), as of {@code nowMillis}, with the
     * records produced and committed per second over the window.
     */
    public ConsumerHealth judge(String group, List<PartitionLag> partitions, long nowMillis) {
        Map<TopicPartitionKey, ConsumerHealth.Status> per = new HashMap<>();
        List<String> findings = new ArrayList<>();
        ConsumerHealth.Status worst = ConsumerHealth.Status.OK;
        String worstFinding = null;
        long waiting = 0;
        double produced = 0;
        double consumed = 0;
        double span = 0;
        boolean saturated = true;
        for (PartitionLag p : partitions) {
            TopicPartitionKey key = p.offsets().key();
            Ring ring = rings.get(new Key(group, key));
            if (ring == null || ring.size == 0) {
                continue;
            }
            int first = ring.at(0);
            int newest = ring.at(ring.size - 1);
            double seconds = (ring.millis[newest] - ring.millis[first]) / 1000.0;
            if (seconds >= 1) {
                produced += (ring.committed[newest] + ring.lag[newest] - ring.committed[first] - ring.lag[first]) / seconds;
                consumed += Math.max(0, ring.committed[newest] - ring.committed[first]) / seconds;
                span = Math.max(span, seconds);
            }
            for (int i = 0; i < ring.size && saturated; i++) {
                saturated = ring.lag[ring.at(i)] > 0;
            }
            Verdict verdict = judge(ring, key, nowMillis);
            ConsumerHealth.Status status = verdict.status();
            per.put(key, status);
            waiting += ring.lag[ring.at(ring.size - 1)] > 0 ? 1 : 0;
            if (status.compareTo(worst) > 0) {
                worst = status;
                worstFinding = verdict.finding();
                findings.clear();
            }
            if (status == worst && status != ConsumerHealth.Status.OK) {
                findings.add(key.toString());
            }
        }
        if (per.isEmpty()) {
            return ConsumerHealth.UNKNOWN;
        }
        String summary;
        if (worst == ConsumerHealth.Status.OK) {
            summary = waiting == 0 ? "nothing waits on " + per.size() + " partition(s)"
                    : "committed offsets move on the " + waiting + " partition(s) with lag";
        } else {
            summary = worst + ": " + worstFinding + (findings.size() > 1 ? " (and " + (findings.size() - 1)
                    + " more partition(s) " + worst + ")" : "");
        }
        ConsumerHealth.Throughput throughput = span == 0 ? ConsumerHealth.Throughput.UNKNOWN
                : new ConsumerHealth.Throughput(Math.max(0, produced), consumed, span, saturated);
        return new ConsumerHealth(worst, per, summary, throughput);
    }

    private Verdict judge(Ring r, TopicPartitionKey key, long now) {
        for (int i = 1; i < r.size; i++) {
            long before = r.committed[r.at(i - 1)];
            long after = r.committed[r.at(i)];
            if (after < before) {
                return new Verdict(ConsumerHealth.Status.REWIND,
                        "the committed offset on " + key + " moved back from " + before + " to " + after);
            }
        }
        int last = r.at(r.size - 1);
        if (r.lag[last] <= 0) {
            return Verdict.OK;
        }
        long stillMillis = now - r.waitingSince;
        String still = "the committed offset " + r.committed[last] + " on " + key + " has not moved for "
                + stillMillis / 1000 + " s while " + r.lag[last] + " records wait";
        if (stillMillis >= settings.stopAfter().toMillis()) {
            return new Verdict(ConsumerHealth.Status.STOP, still);
        }
        if (stillMillis >= settings.stallAfter().toMillis()) {
            return new Verdict(ConsumerHealth.Status.STALL, still);
        }
        if (r.size == settings.polls()) {
            // Burrow's first rule: a window with zero lag in it is fine, however the lag moved since.
            boolean growing = r.lag[last] > r.lag[r.at(0)] && r.lag[r.at(0)] > 0;
            for (int i = 1; i < r.size && growing; i++) {
                growing = r.lag[r.at(i)] >= r.lag[r.at(i - 1)] && r.lag[r.at(i)] > 0;
            }
            if (growing) {
                return new Verdict(ConsumerHealth.Status.WARN, "the lag on " + key + " grew at each of the last "
                        + r.size + " polls (" + r.lag[r.at(0)] + " to " + r.lag[last] + " records)");
            }
        }
        return Verdict.OK;
    }
}
