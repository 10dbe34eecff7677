package dev.lagscaler.controller;

import dev.lagscaler.lag.TriggerKey;
import dev.lagscaler.lag.TriggerResult;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.OperatorMetrics;
import dev.lagscaler.plan.PlanInput;
import dev.lagscaler.plan.TriggerHealth;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The kafka triggers of every ScaledObject, registered with the lag engine, with their health: the latest result
 * and the count of consecutive failed polls. Each result wakes the ScaledObject's reconcile.
 */
final class TriggerRegistry implements AutoCloseable {
    /** One registered trigger and its health. */
    static final class Entry {
        final KafkaTriggerSettings settings;
        final String scalerName;
        final LagEngine.Registration registration;
        volatile TriggerResult latest;
        volatile int consecutiveFailures;
        /** The target is at zero: an unchanged result wakes no reconcile (see onResult). */
        volatile boolean atZero;
        /** Whether its cluster's wake-up consumer fetched as it should at the last result (its status names it). */
        volatile boolean wakeUpHealthy;
        volatile Instant lastWake;
        /** How often it is polled, and how often an active target's unremarkable result still wakes its reconcile. */
        volatile Duration interval = Duration.ZERO;
        volatile Duration wakeEvery = Duration.ZERO;

        Entry(KafkaTriggerSettings settings, String scalerName, LagEngine.Registration registration) {
            this.settings = settings;
            this.scalerName = scalerName;
            this.registration = registration;
        }
    }

    private final LagEngine engine;
    private final Consumer<String> wake;
    private final Consumer<String> refresh;
    private final BiConsumer<String, TriggerResult.Failed> failed;
    private final OperatorMetrics observed;
    private final Map<String, Map<Integer, Entry>> byObject = new ConcurrentHashMap<>();

    /**
     * {@code wake} gets the object key of a result worth a reconcile; {@code refresh} the key of an active target's
     * result that only updates the values the HPA reads (served without a reconcile); {@code failed} every failed
     * poll of a trigger (KEDA's KEDAScalerFailed Event, one per failed query).
     */
    TriggerRegistry(LagEngine engine, Consumer<String> wake, Consumer<String> refresh,
                    BiConsumer<String, TriggerResult.Failed> failed, OperatorMetrics observed) {
        this.engine = engine;
        this.wake = wake;
        this.refresh = refresh;
        this.failed = failed;
        this.observed = observed;
    }

    /** A kafka trigger to register: its settings and KEDA's {@code scaler} label for its metrics. */
    record Wanted(KafkaTriggerSettings settings, String scalerName) {
    }

    /**
     * Makes the object's registrations match {@code wanted} (index → trigger) at {@code interval}; returns whether it
     * registered any trigger it did not poll before (KEDA's "scalers started").
     */
    synchronized boolean sync(String objectKey, Map<Integer, Wanted> wanted, Duration interval) {
        boolean[] started = {false};
        Map<Integer, Entry> current = byObject.computeIfAbsent(objectKey, k -> new ConcurrentHashMap<>());
        for (Integer index : new HashMap<>(current).keySet()) {
            Entry entry = current.get(index);
            Wanted still = wanted.get(index);
            if (still == null || !entry.settings.equals(still.settings()) || !entry.scalerName.equals(still.scalerName())) {
                entry.registration.close();
                current.remove(index);
            }
        }
        wanted.forEach((index, trigger) -> {
            Entry entry = current.get(index);
            if (entry == null) {
                String[] parts = objectKey.split("/", 2);
                Entry[] holder = new Entry[1];
                LagEngine.Registration registration = engine.register(new TriggerKey(parts[0], parts[1], index),
                        trigger.settings(), interval, result -> onResult(objectKey, index, holder[0], result));
                holder[0] = new Entry(trigger.settings(), trigger.scalerName(), registration);
                current.put(index, holder[0]);
                started[0] = true;
            } else {
                entry.registration.setInterval(interval);
            }
        });
        return started[0];
    }

    /**
     * Makes the object's triggers follow its plan: polled every {@code interval} (fast while its target is at zero),
     * and, at zero, woken by their first record through the wake-up consumer (which then polls them only every
     * {@code safetyNet}, the object's pollingInterval) when {@code watchForRecords}. Unchanged results of a target
     * at zero wake its reconcile only every {@link #QUIET_WAKE}.
     */
    void follow(String objectKey, Duration interval, boolean atZero, boolean watchForRecords, Duration safetyNet) {
        byObject.getOrDefault(objectKey, Map.of()).values().forEach(e -> {
            e.registration.setInterval(interval);
            e.interval = interval;
            e.wakeEvery = safetyNet;
            e.atZero = atZero;
            e.registration.watchForRecords(atZero && watchForRecords, safetyNet);
        });
    }

    private void onResult(String objectKey, int index, Entry entry, TriggerResult result) {
        if (entry == null) {
            return;
        }
        boolean changed;
        boolean wakeUpHealthy = engine.wakeUpHealthy(entry.settings.connection());
        synchronized (entry) {
            // At zero anything new matters (the first record, and whether the wake-up consumer now serves it, which
            // its status says); above zero only what can change the decision (a failure, activity, the group's
            // health): new values alone go to the HPA without a reconcile.
            changed = entry.atZero ? !sameMeasurement(entry.latest, result) || wakeUpHealthy != entry.wakeUpHealthy
                    : !sameDecision(entry.latest, result);
            entry.wakeUpHealthy = wakeUpHealthy;
            entry.consecutiveFailures = result instanceof TriggerResult.Failed ? entry.consecutiveFailures + 1 : 0;
            entry.latest = result;
        }
        String[] parts = objectKey.split("/", 2);
        observed.triggerResult(parts[0], parts[1], index, entry.scalerName, entry.settings, result);
        if (result instanceof TriggerResult.Failed f) {
            failed.accept(objectKey, f);
        }
        // A target at zero with nothing new to say needs no reconcile per safety-net poll (at 1,000 idle objects
        // that was 200 passes a second): one per QUIET_WAKE keeps its status and served values fresh. An active
        // target polled for fresh values (useCachedMetrics: false) reconciles once per pollingInterval, as with
        // cached values, and between those its new values are served directly. Anything that matters wakes at once.
        Duration quiet = entry.atZero ? QUIET_WAKE : activeWakeEvery(entry.wakeEvery, entry.interval);
        if (wakes(changed, entry.lastWake, result.at(), quiet)) {
            entry.lastWake = result.at();
            wake.accept(objectKey);
        } else if (!entry.atZero) {
            refresh.accept(objectKey);
        }
    }

    /** Whether a result wakes its object's reconcile: anything that matters, else once {@code quiet} has passed. */
    static boolean wakes(boolean changed, Instant lastWake, Instant at, Duration quiet) {
        return changed || lastWake == null || !at.isBefore(lastWake.plus(quiet));
    }

    /**
     * How long an active target's unremarkable results go without a reconcile: pollingInterval, less half a poll so
     * that polls at pollingInterval (cached values) each still wake one.
     */
    static Duration activeWakeEvery(Duration pollingInterval, Duration pollEvery) {
        Duration quiet = pollingInterval.minus(pollEvery.dividedBy(2));
        return quiet.isNegative() ? Duration.ZERO : quiet;
    }

    /** Whether two results decide alike: both measured, as active, with the group in the same health. */
    static boolean sameDecision(TriggerResult before, TriggerResult now) {
        return before instanceof TriggerResult.Measured b && now instanceof TriggerResult.Measured n
                && b.lag().active() == n.lag().active() && b.health().status() == n.health().status();
    }

    /** How often an unchanged result of a target at zero still wakes its reconcile. */
    static final Duration QUIET_WAKE = Duration.ofSeconds(30);

    /** Whether two results say the same for a decision: both measured, same value, activity, lag and health. */
    static boolean sameMeasurement(TriggerResult before, TriggerResult now) {
        return before instanceof TriggerResult.Measured b && now instanceof TriggerResult.Measured n
                && b.lag().metricValue() == n.lag().metricValue() && b.lag().active() == n.lag().active()
                && b.lag().rawTotalLag() == n.lag().rawTotalLag() && b.health().status() == n.health().status()
                && Objects.equals(b.timeLag().maxSeconds(), n.timeLag().maxSeconds());
    }

    /** The latest result and failure count of each of the object's triggers, copied once for one reconcile pass. */
    Map<Integer, TriggerHealth> snapshot(String objectKey) {
        Map<Integer, TriggerHealth> health = new HashMap<>();
        byObject.getOrDefault(objectKey, Map.of()).forEach((index, entry) -> {
            synchronized (entry) {
                health.put(index, new TriggerHealth(entry.latest, entry.consecutiveFailures));
            }
        });
        return health;
    }

    /** The wake-up consumers' state for the planner: per cluster, null when it fetches, else why not. */
    PlanInput.WakeUp wakeUp(boolean enabled) {
        Map<String, String> errors = new HashMap<>();
        engine.wakeUpState().forEach((cluster, state) -> errors.put(cluster, state.healthy() ? null
                : state.lastError() != null ? state.lastError() : "it has not fetched yet"));
        return new PlanInput.WakeUp(enabled, errors);
    }

    synchronized void remove(String objectKey) {
        Map<Integer, Entry> entries = byObject.remove(objectKey);
        if (entries != null) {
            entries.values().forEach(e -> e.registration.close());
        }
    }

    @Override
    public synchronized void close() {
        byObject.keySet().forEach(this::remove);
    }
}
