package dev.lagscaler.controller;

import dev.lagscaler.metrics.OperatorMetrics;
import io.kubernetes.client.extended.workqueue.DefaultRateLimitingQueue;
import io.kubernetes.client.extended.workqueue.ratelimiter.ItemExponentialFailureRateLimiter;
import io.kubernetes.client.extended.workqueue.ratelimiter.RateLimiter;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The controller's rate-limited work queue, reporting how long each item waited before a worker took it. A failed
 * pass is requeued through a per-item exponential backoff ({@link #FIRST_RETRY} doubling to {@link #MAX_RETRY}),
 * forgotten once the item's pass succeeds.
 *
 * <p>Delayed adds ({@code addAfter}, {@code addRateLimited}) are timers of its own. client-java's delaying queue hands
 * them to one thread through a queue of 1,000 places and drops what does not fit, without a word: at 10,000 objects
 * a replica whose Lease ran late requeued more than that at once (every pass it took in the fence), and about 30
 * objects were never reconciled again until their owner changed.
 */
final class MeasuredQueue<T> extends DefaultRateLimitingQueue<T> {
    private final OperatorMetrics observed;
    private final Map<T, Long> enqueuedAt = new HashMap<>();
    private final RateLimiter<T> backoff;
    private final ScheduledThreadPoolExecutor timers;
    /** Per item, when its earliest pending delayed add is due (System.nanoTime). */
    private final Map<T, Long> dueAt = new HashMap<>();

    static final Duration FIRST_RETRY = Duration.ofMillis(200);
    static final Duration MAX_RETRY = Duration.ofMinutes(5);

    MeasuredQueue(ExecutorService delays, OperatorMetrics observed) {
        this(delays, observed, new ItemExponentialFailureRateLimiter<>(FIRST_RETRY, MAX_RETRY));
    }

    private MeasuredQueue(ExecutorService delays, OperatorMetrics observed, RateLimiter<T> backoff) {
        super(delays, backoff);
        this.observed = observed;
        this.backoff = backoff;
        this.timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "requeue-timers");
            t.setDaemon(true);
            return t;
        });
        timers.setRemoveOnCancelPolicy(true);
    }

    /** Adds the item once {@code delay} has passed; an item already due earlier is left as it is. Never drops one. */
    @Override
    public void addAfter(T item, Duration delay) {
        if (isShuttingDown()) {
            return;
        }
        if (delay.isZero() || delay.isNegative()) {
            add(item);
            return;
        }
        long due = System.nanoTime() + delay.toNanos();
        synchronized (dueAt) {
            Long pending = dueAt.get(item);
            if (pending != null && pending - due <= 0) {
                return;
            }
            dueAt.put(item, due);
        }
        timers.schedule(() -> fire(item, due), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void fire(T item, long due) {
        synchronized (dueAt) {
            Long pending = dueAt.get(item);
            if (pending == null || pending != due) {
                return; // an earlier add of the same item replaced this one, and fired or will
            }
            dueAt.remove(item);
        }
        add(item);
    }

    @Override
    public void addRateLimited(T item) {
        addAfter(item, backoff.when(item));
    }

    /** Items waiting on a delayed add (for tests). */
    int delayed() {
        synchronized (dueAt) {
            return dueAt.size();
        }
    }

    @Override
    public void shutDown() {
        super.shutDown();
        timers.shutdownNow();
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
