package dev.lagscaler.controller;

import dev.lagscaler.metrics.OperatorMetrics;
import io.kubernetes.client.extended.workqueue.DefaultRateLimitingQueue;
import io.kubernetes.client.extended.workqueue.ratelimiter.ItemExponentialFailureRateLimiter;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;

/**
 * The controller's rate-limited work queue, reporting how long each item waited before a worker took it. A failed
 * pass is requeued through a per-item exponential backoff ({@link #FIRST_RETRY} doubling to {@link #MAX_RETRY}),
 * forgotten once the item's pass succeeds.
 */
final class MeasuredQueue<T> extends DefaultRateLimitingQueue<T> {
    private final OperatorMetrics observed;
    private final Map<T, Long> enqueuedAt = new HashMap<>();

    static final Duration FIRST_RETRY = Duration.ofMillis(200);
    static final Duration MAX_RETRY = Duration.ofMinutes(5);

    MeasuredQueue(ExecutorService delays, OperatorMetrics observed) {
        super(delays, new ItemExponentialFailureRateLimiter<>(FIRST_RETRY, MAX_RETRY));
        this.observed = observed;
    }

    @Override
    public synchronized void add(T item) {
        enqueuedAt.putIfAbsent(item, System.nanoTime());
        super.add(item);
    }

    @Override
    public synchronized T get() throws InterruptedException {
        T item = super.get();
        Long at = item == null ? null : enqueuedAt.remove(item);
        if (at != null) {
            observed.queueWait(Duration.ofNanos(System.nanoTime() - at));
        }
        return item;
    }
}
