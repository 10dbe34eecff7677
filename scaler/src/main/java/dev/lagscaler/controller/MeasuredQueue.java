package dev.lagscaler.controller;

import dev.lagscaler.metrics.OperatorMetrics;
import io.kubernetes.client.extended.workqueue.DefaultRateLimitingQueue;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;

/** The controller's rate-limited work queue, reporting how long each item waited before a worker took it. */
final class MeasuredQueue<T> extends DefaultRateLimitingQueue<T> {
    private final OperatorMetrics observed;
    private final Map<T, Long> enqueuedAt = new HashMap<>();

    MeasuredQueue(ExecutorService delays, OperatorMetrics observed) {
        super(delays);
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
