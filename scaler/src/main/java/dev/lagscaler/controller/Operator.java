package dev.lagscaler.controller;

import dev.lagscaler.KedaKeys;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.plan.Plan;
import dev.lagscaler.metrics.MetricsSink;
import io.kubernetes.client.extended.controller.Controller;
import io.kubernetes.client.extended.controller.builder.ControllerBuilder;
import io.kubernetes.client.extended.controller.reconciler.Request;
import io.kubernetes.client.extended.event.legacy.LegacyEventBroadcaster;
import io.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.kubernetes.client.extended.leaderelection.LeaderElector;
import io.kubernetes.client.extended.workqueue.RateLimitingQueue;
import dev.lagscaler.metrics.OperatorMetrics;
import io.kubernetes.client.openapi.ApiClient;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.CustomObjectsApi;
import io.kubernetes.client.openapi.models.V1EventSource;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator process: leader election on a Lease, then the {@link ClusterCaches}, a rate-limited work queue and the
 * {@link ScaledObjectReconciler} workers. Only the leader polls Kafka and writes to the cluster. Sharded
 * ({@link OperatorConfig#sharded}), every replica runs them and acts on its share ({@link ShardMembership}).
 */
public final class Operator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Operator.class);

    private final ApiClient watches;
    private final ApiClient client;
    private final LagEngine engine;
    private final OperatorConfig config;
    private final AtomicBoolean leading = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile Running running;
    private volatile Runnable onLostLeadership = () -> { };
    private volatile boolean gaveUp;
    private Thread electionThread;
    private LeaderElector elector;
    private ReleasableLeaseLock lock;
    private String leaseOwner;
    private ShardMembership membership;
    /** Sharded by namespace with the apiserver filtering: the informers' shard selector; null otherwise. */
    private ShardedWatches shardedWatches;
    /** The caches a new share keeps (server-side sharding, while running); null otherwise. */
    private volatile ClusterCaches.Shared sharedCaches;
    /** Restarts the controllers on this replica's new share (server-side sharding), one at a time. */
    private java.util.concurrent.ExecutorService resharding;

    /** What runs while this process leads. */
    private record Running(ClusterCaches caches, Controller controller, TriggerRegistry registry,
                           LegacyEventBroadcaster events, ScaledObjectReconciler reconciler, Thread controllerThread,
                           RateLimitingQueue<Request> queue, JobControl jobs) {
    }

    /** The ScaledJob controller, when the cluster serves ScaledJobs (null otherwise). */
    private record JobControl(ScaledJobCaches caches, Controller controller, TriggerRegistry registry,
                              RateLimitingQueue<Request> queue) {
        void stop() {
            controller.shutdown();
            caches.stop();
            registry.close();
        }
    }

    private final MetricsSink metrics;
    private final OperatorMetrics observed;

    public Operator(ApiClient client, LagEngine engine, OperatorConfig config) {
        this(client, engine, config, MetricsSink.NONE);
    }

    /** An operator that also sends metric values to {@code metrics} (the feed the adapter subscribes to). */
    public Operator(ApiClient client, LagEngine engine, OperatorConfig config, MetricsSink metrics) {
        this(client, client, engine, config, metrics);
    }

    /**
     * With separate clients: {@code watches} for the informers' long-running watches (no read timeout), {@code
     * requests} for every other call (with one), so that one hung connection cannot pin a worker forever.
     */
    public Operator(ApiClient watches, ApiClient requests, LagEngine engine, OperatorConfig config, MetricsSink metrics) {
        this(watches, requests, engine, config, metrics, new OperatorMetrics(new PrometheusRegistry(), false));
    }

    /** With the Prometheus metrics it records into (served by the caller, e.g. on {@code --metrics-address}). */
    public Operator(ApiClient watches, ApiClient requests, LagEngine engine, OperatorConfig config, MetricsSink metrics,
                    OperatorMetrics observed) {
        this.watches = watches;
        this.client = requests;
        this.engine = engine;
        this.config = config;
        this.metrics = metrics;
        this.observed = observed;
        countRequests(requests);
        if (watches != requests) {
            countRequests(watches);
        }
        engine.addPollListener(observed::poll);
        observed.watchWakeUp(engine::wakeUpState);
        observed.watchLoop(() -> {
            Running r = running;
            return r == null ? 0 : r.queue().length();
        }, this::isLeader);
        observed.watchShard(() -> shardMembers().size(), this::shardSettled, this::heldObjects);
        observed.watchRegistered(() -> {
            Running r = running;
            return r == null ? Map.of() : r.caches().scaledObjectsByNamespace();
        }, () -> {
            Running r = running;
            return r == null ? Map.of() : r.caches().triggersByType();
        });
    }

    private void countRequests(ApiClient apiClient) {
        apiClient.setHttpClient(apiClient.getHttpClient().newBuilder().addInterceptor(chain -> {
            okhttp3.Request request = chain.request();
            okhttp3.Response response = chain.proceed(request);
            String verb = "true".equals(request.url().queryParameter("watch")) ? "watch" : request.method();
            observed.apiserverRequest(verb, response.code());
            okhttp3.ResponseBody body = response.body();
            if (body == null) {
                return response;
            }
            // Bytes as they are read, so a watch counts its events as they come (what sharding saves is measured).
            okio.Source counted = new okio.ForwardingSource(body.source()) {
                @Override
                public long read(okio.Buffer sink, long byteCount) throws java.io.IOException {
                    long n = super.read(sink, byteCount);
                    if (n > 0) {
                        observed.apiserverBytes(verb, n);
                    }
                    return n;
                }
            };
            return response.newBuilder().body(okhttp3.ResponseBody.create(okio.Okio.buffer(counted), body.contentType(),
                    body.contentLength())).build();
        }).build());
    }

    public OperatorMetrics observed() {
        return observed;
    }

    /**
     * The StatefulSet (in the Lease's namespace) that owns the Lease this operator creates, so the Lease goes with the
     * release that made it ({@code --lease-owner}, the chart's operator StatefulSet); null (default): no owner.
     */
    public Operator leaseOwner(String statefulSet) {
        this.leaseOwner = statefulSet;
        return this;
    }

    /** Called when leadership is lost after having been held (the process should exit so it restarts clean). */
    public Operator onLostLeadership(Runnable hook) {
        this.onLostLeadership = hook;
        return this;
    }

    public void start() {
        ensureNamespace();
        if (config.sharded()) {
            startSharded();
            return;
        }
        lock = new ReleasableLeaseLock(config.clusterObjectNamespace(), config.leaseName(), config.identity(), client,
                leaseOwner);
        Duration lease = config.leaseDuration();
        elector = new LeaderElector(new LeaderElectionConfig(lock, lease, lease.multipliedBy(2).dividedBy(3),
                config.leaseRetryPeriod()));
        electionThread = new Thread(() -> elector.run(this::startLeading, this::stopLeading), "leader-election");
        electionThread.setDaemon(true);
        electionThread.start();
        LOG.atInfo().addKeyValue("identity", config.identity())
                .addKeyValue("lease", config.clusterObjectNamespace() + "/" + config.leaseName()).log("operator started");
    }

    /**
     * Sharded: the controllers run at once, and what each reconcile may act on follows the membership (until the
     * replicas agree on a view, nothing). A change of what this replica holds queues the objects it concerns.
     */
    private void startSharded() {
        boolean serverSide = config.sharding().serverSide()
                && ShardedWatches.probe(client.getHttpClient(), client.getBasePath(), config.clusterObjectNamespace());
        membership = new ShardMembership(new io.kubernetes.client.openapi.apis.CoordinationV1Api(client),
                config.clusterObjectNamespace(), config.leaseName(), config.identity(), config.leaseDuration(),
                config.leaseRetryPeriod(), leaseOwnerReference(), this::shardsMoved);
        if (serverSide) {
            // The caches hold only this replica's ScaledObjects and ScaledJobs: they start once it knows its share,
            // and start again on each new share (a new membership).
            shardedWatches = new ShardedWatches();
            watches.setHttpClient(watches.getHttpClient().newBuilder().addInterceptor(shardedWatches).build());
            resharding = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "shard-caches");
                t.setDaemon(true);
                return t;
            });
        } else {
            startControllers();
        }
        leading.set(true);
        metrics.leading(true);
        membership.start();
        LOG.atInfo().addKeyValue("identity", config.identity())
                .addKeyValue("filter", serverSide ? "apiserver" : "operator")
                .addKeyValue("group", config.clusterObjectNamespace() + "/" + config.leaseName()).log("operator started, sharded");
    }

    private void shardsMoved(dev.lagscaler.shard.ShardAssignment before, dev.lagscaler.shard.ShardAssignment after) {
        if (shardedWatches != null && !after.target().equals(before.target())) {
            String field = "object.metadata.uid";
            String selector = after.target().selector(config.identity(), field);
            // Owning nothing: a range of one hash, not "no selector" (which would be everything).
            String share = selector != null ? selector
                    : "shardRange(" + field + ", '0x0000000000000000', '0x0000000000000001')";
            try {
                resharding.execute(() -> reshard(share));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return; // stopping
            }
        }
        if (shardedWatches != null) {
            // After any restart of the caches that this change queued: a pass that ran on the new caches before the
            // replicas agreed found the object not held, and nothing else would bring it back.
            try {
                resharding.execute(() -> requeueMoved(before, after));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // stopping
            }
            return;
        }
        requeueMoved(before, after);
    }

    /** Queues the cached objects whose holding differs between the two assignments. */
    private void requeueMoved(dev.lagscaler.shard.ShardAssignment before, dev.lagscaler.shard.ShardAssignment after) {
        Running r = running;
        if (r == null) {
            return;
        }
        int[] moved = {0};
        forEachCached(r, o -> {
            if (before.holds(o.uid()) != after.holds(o.uid())) {
                (o.job() ? r.jobs().queue() : r.queue()).add(o.request());
                moved[0]++;
            }
        });
        observed.shardObjectsMoved(moved[0]);
    }

    /** One cached ScaledObject or ScaledJob: which kind, its "namespace/name" and uid. */
    private record Cached(boolean job, String key, String uid) {
        Request request() {
            String[] parts = key.split("/", 2);
            return new Request(parts[0], parts[1]);
        }
    }

    /** Every ScaledObject and ScaledJob the running controllers cache. */
    private static void forEachCached(Running r, java.util.function.Consumer<Cached> action) {
        r.caches().forEachScaledObject((key, uid) -> action.accept(new Cached(false, key, uid)));
        if (r.jobs() != null) {
            r.jobs().caches().forEachScaledJob((key, uid) -> action.accept(new Cached(true, key, uid)));
        }
    }

    /**
     * The informers start again on this replica's new share: each lists only its namespaces' objects (its caches,
     * registrations and queue are new; every object of the share is reconciled once, which writes only what differs).
     */
    private void reshard(String selector) {
        if (selector.equals(shardedWatches.selector()) || !leading.get()) {
            return;
        }
        long started = System.nanoTime();
        forgetLeaving(running);
        stopControllers();
        shardedWatches.select(selector);
        try {
            startControllers();
        } catch (RuntimeException e) {
            LOG.atError().addKeyValue("identity", config.identity()).setCause(e).log("controllers failed to start on the new share");
            giveUpLeading();
            return;
        }
        LOG.atInfo().addKeyValue("identity", config.identity()).addKeyValue("ranges", selector.split("\\|\\|").length)
                .addKeyValue("took_ms", (System.nanoTime() - started) / 1_000_000).log("caches restarted on the new share");
    }

    /**
     * Before the caches restart on a new share: the objects this replica no longer holds are never reconciled here
     * again (the new caches hold only the new share, and the kept HPA cache wakes no one on the restart), so their
     * series and served values go now; left, they would stay beside their new owner's, stale.
     */
    private void forgetLeaving(Running r) {
        if (r == null) {
            return;
        }
        dev.lagscaler.shard.ShardAssignment now = membership.assignment();
        forEachCached(r, o -> {
            if (!now.holds(o.uid())) {
                Request gone = o.request();
                if (o.job()) {
                    observed.removeObject(gone.getNamespace(), ScaledJobReconciler.KEY_PREFIX + gone.getName());
                } else {
                    metrics.removeObject(gone.getNamespace(), gone.getName());
                    observed.removeObject(gone.getNamespace(), gone.getName());
                }
            }
        });
    }

    /** The StatefulSet named by {@link #leaseOwner}, as an owner reference for the shard Lease; null when none. */
    private io.kubernetes.client.openapi.models.V1OwnerReference leaseOwnerReference() {
        if (leaseOwner == null) {
            return null;
        }
        try {
            String uid = new io.kubernetes.client.openapi.apis.AppsV1Api(client)
                    .readNamespacedStatefulSet(leaseOwner, config.clusterObjectNamespace()).execute().getMetadata().getUid();
            return new io.kubernetes.client.openapi.models.V1OwnerReference().apiVersion("apps/v1").kind("StatefulSet")
                    .name(leaseOwner).uid(uid);
        } catch (ApiException e) {
            LOG.atWarn().addKeyValue("owner", leaseOwner).addKeyValue("code", e.getCode())
                    .log("the shard Lease is not owned by the StatefulSet; it outlives an uninstall");
            return null;
        }
    }

    /** The cached ScaledObjects and ScaledJobs this replica acts on (all of them when it leads unsharded). */
    private int heldObjects() {
        Running r = running;
        if (r == null) {
            return 0;
        }
        int[] held = {0};
        // A count for /metrics: read without a pass, so a scrape never waits for a change of membership.
        forEachCached(r, o -> held[0] += membership == null || membership.holdsNow(o.uid()) ? 1 : 0);
        return held[0];
    }

    /** Sharded: whether this replica has settled into its share of the latest membership it saw. */
    public boolean shardSettled() {
        return membership != null && membership.settled();
    }

    /** Sharded: the members this replica works with (its latest view), sorted; empty otherwise. */
    public java.util.List<String> shardMembers() {
        return membership == null ? java.util.List.of() : membership.assignment().target().members();
    }

    public boolean isLeader() {
        return leading.get();
    }

    /** Whether the process's leader election still runs (a dead election thread means it can never lead). */
    public boolean isAlive() {
        return !gaveUp && (membership != null || electionThread != null && electionThread.isAlive());
    }

    /** Whether it gave up leading because its controllers failed to start (the process should then exit). */
    public boolean gaveUp() {
        return gaveUp;
    }

    /** Whether this process can do its job now: a standby is ready to take over; a leader once its caches synced. */
    public boolean isReady() {
        Running r = running;
        return isAlive() && (!leading.get() || (r != null && r.caches().hasSynced()));
    }

    /** Reconcile passes run while this process leads (0 when it does not): lets tests wait for reconciles to happen. */
    public long reconcilePasses() {
        Running r = running;
        return r == null ? 0 : r.reconciler().passes();
    }

    /** Blocks until the operator stops. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    private void startLeading() {
        LOG.atInfo().addKeyValue("identity", config.identity()).log("leader elected");
        try {
            startControllers();
            leading.set(true);
            metrics.leading(true);
        } catch (RuntimeException | Error e) {
            // The elector runs this hook in a Future, which would swallow the failure silently. A leader that does
            // nothing must not keep renewing the Lease: give it up so a standby takes over, and stop.
            LOG.atError().addKeyValue("identity", config.identity()).setCause(e).log("controllers failed to start");
            giveUpLeading();
            throw e;
        }
    }

    /**
     * A leader that cannot do its job gives the Lease up for a standby, and this process stops (/healthz then fails,
     * so a kubelet restarts it). Off the elector's own threads: closing it waits for them; the release itself stops
     * our renewals.
     */
    private void giveUpLeading() {
        leading.set(false);
        stopRunning();
        Thread giveUp = new Thread(() -> {
            releaseLease();
            if (elector != null) {
                elector.close();
            }
            gaveUp = true;
            onLostLeadership.run();
            stopped.countDown();
        }, "leader-give-up");
        giveUp.setDaemon(true);
        giveUp.start();
    }

    /**
     * Watches the controller's thread: it ends by itself only when the controller did not start (its caches did not
     * sync within {@link OperatorConfig#cacheSyncTimeout}: a missing RBAC grant, a CRD not installed, a cluster too
     * big). A leader whose controller is not running must not keep the Lease.
     */
    private void superviseController(Thread controllerThread) {
        Thread watchdog = new Thread(() -> {
            try {
                controllerThread.join();
            } catch (InterruptedException e) {
                return;
            }
            Running r = running;
            if (r != null && r.controllerThread() == controllerThread && leading.get()) {
                LOG.atError().addKeyValue("identity", config.identity())
                        .addKeyValue("cache_sync_timeout_s", config.cacheSyncTimeout().toSeconds())
                        .addKeyValue("caches_not_synced", String.join(",", r.caches().notSynced()))
                        .log("controller not running (its caches did not sync): giving the Lease up");
                giveUpLeading();
            }
        }, "controller-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    private Ownership ownership() {
        return membership != null ? membership : Ownership.ALL;
    }

    private void startControllers() {
        // Sharded with the apiserver filtering, a new share restarts only the ScaledObject caches (see ClusterCaches.Shared).
        if (shardedWatches != null && sharedCaches == null) {
            sharedCaches = new ClusterCaches.Shared(watches);
        }
        ClusterCaches caches = sharedCaches != null ? new ClusterCaches(watches, sharedCaches) : new ClusterCaches(watches);
        RateLimitingQueue<Request> queue = new MeasuredQueue<>(Executors.newSingleThreadExecutor(), observed);
        CoreV1Api core = new CoreV1Api(client);
        LegacyEventBroadcaster broadcaster = new LegacyEventBroadcaster(core);
        ScaleTargets targets = new ScaleTargets(client, caches.deployments(), caches.statefulSets());
        PlanApplier applier = new PlanApplier(client, targets,
                broadcaster.newRecorder(new V1EventSource().component("lagscaler")), metrics);
        java.util.concurrent.atomic.AtomicReference<ScaledObjectReconciler> reconcilerRef =
                new java.util.concurrent.atomic.AtomicReference<>();
        TriggerRegistry registry = new TriggerRegistry(engine, key -> {
            String[] parts = key.split("/", 2);
            queue.add(new Request(parts[0], parts[1]));
        }, key -> {
            ScaledObjectReconciler r = reconcilerRef.get();
            if (r != null) {
                r.serveFresh(key);
            }
        }, (key, failure) -> {
            String[] parts = key.split("/", 2);
            applier.event(parts[0], parts[1], null, new Plan.Event("Warning", "KEDAScalerFailed",
                    "trigger " + failure.key().index() + ": " + failure.error()));
        }, observed);
        AuthResolver auth = new AuthResolver(core, caches::triggerAuthentication, caches::clusterTriggerAuthentication,
                config.clusterObjectNamespace());
        ScaledObjectReconciler reconciler = new ScaledObjectReconciler(caches, registry, auth,
                targets, applier, config, Clock.systemUTC(), metrics, observed, ownership(),
                shardedWatches == null ? null : new CrossShardClaims(client, Clock.systemUTC()));
        reconcilerRef.set(reconciler);
        caches.wakeDependents(queue::add);

        Controller controller = controller(caches.scaledObjectFactory(), queue, reconciler, "scaledobject-controller",
                config.workers(), caches::hasSynced);
        caches.start();
        broadcaster.startRecording();
        Thread controllerThread = new Thread(controller, "scaledobject-controller");
        controllerThread.setDaemon(true);
        controllerThread.start();
        JobControl jobs = startJobController(auth, broadcaster);
        running = new Running(caches, controller, registry, broadcaster, reconciler, controllerThread, queue, jobs);
        superviseController(controllerThread);
    }

    /**
     * The ScaledJob controller, on the same engine (its triggers are polled by the shared client and woken at zero by
     * the same wake-up consumer, through a registry of its own). Only where the cluster serves ScaledJobs: a chart
     * upgrade does not upgrade CRDs, and an informer on a kind not served would keep the caches from syncing.
     */
    private JobControl startJobController(AuthResolver auth, LegacyEventBroadcaster broadcaster) {
        try {
            new CustomObjectsApi(client).listClusterCustomObject(KedaKeys.GROUP, KedaKeys.VERSION, KedaKeys.SCALED_JOBS)
                    .limit(1).execute();
        } catch (ApiException e) {
            LOG.atWarn().addKeyValue("code", e.getCode()).log(e.getCode() == 404
                    ? "ScaledJobs are not served (install crds/keda.sh_scaledjobs.yaml): no ScaledJob controller"
                    : "ScaledJobs cannot be listed: no ScaledJob controller");
            return null;
        }
        ScaledJobCaches caches = new ScaledJobCaches(watches);
        RateLimitingQueue<Request> queue = new MeasuredQueue<>(Executors.newSingleThreadExecutor(), observed);
        java.util.function.Consumer<String> wake = key -> {
            String[] parts = key.split("/", 2);
            queue.add(new Request(parts[0], parts[1].substring(ScaledJobReconciler.KEY_PREFIX.length())));
        };
        TriggerRegistry registry = new TriggerRegistry(engine, wake, wake, (key, failure) -> { }, observed);
        // A Job that finishes (or goes) wakes its ScaledJob.
        caches.jobs().addEventHandler(new io.kubernetes.client.informer.ResourceEventHandler<>() {
            @Override
            public void onAdd(io.kubernetes.client.openapi.models.V1Job job) {
            }

            @Override
            public void onUpdate(io.kubernetes.client.openapi.models.V1Job before, io.kubernetes.client.openapi.models.V1Job job) {
                onDelete(job, false);
            }

            @Override
            public void onDelete(io.kubernetes.client.openapi.models.V1Job job, boolean unknown) {
                queue.add(new Request(job.getMetadata().getNamespace(),
                        job.getMetadata().getLabels().get(dev.lagscaler.plan.JobPlanner.SCALED_JOB_LABEL)));
            }
        });
        ScaledJobReconciler reconciler = new ScaledJobReconciler(caches, registry, auth, client,
                broadcaster.newRecorder(new V1EventSource().component("lagscaler")), config, Clock.systemUTC(), observed,
                ownership());
        Controller controller = controller(caches.scaledJobFactory(), queue, reconciler, "scaledjob-controller", 2,
                caches::hasSynced);
        caches.start();
        Thread thread = new Thread(controller, "scaledjob-controller");
        thread.setDaemon(true);
        thread.start();
        return new JobControl(caches, controller, registry, queue);
    }

    /**
     * A controller over the keda.sh kind of {@code factory}'s informer: status-only updates filtered out, a resync every
     * 5 minutes, ready once {@code ready} says the caches synced (within the cache-sync timeout).
     */
    private Controller controller(io.kubernetes.client.informer.SharedInformerFactory factory, RateLimitingQueue<Request> queue,
                                  io.kubernetes.client.extended.controller.reconciler.Reconciler reconciler, String name,
                                  int workers, java.util.function.Supplier<Boolean> ready) {
        // The queue must be set before watch(): the watch captures the builder's queue at that moment.
        return ControllerBuilder.defaultBuilder(factory)
                .withWorkQueue(queue)
                .watch(q -> ControllerBuilder.controllerWatchBuilder(DynamicKubernetesObject.class, q)
                        .withOnUpdateFilter(Operator::significantChange)
                        .withResyncPeriod(Duration.ofMinutes(5))
                        .build())
                .withReconciler(reconciler)
                .withName(name)
                .withWorkerCount(workers)
                .withReadyFunc(ready)
                .withReadyTimeout(config.cacheSyncTimeout())
                .build();
    }

    /** Status-only updates (our own writes) do not re-trigger a reconcile; spec, annotation and lifecycle changes do. */
    static boolean significantChange(DynamicKubernetesObject oldObj, DynamicKubernetesObject newObj) {
        V1ObjectMeta o = oldObj.getMetadata();
        V1ObjectMeta n = newObj.getMetadata();
        return !Objects.equals(o.getGeneration(), n.getGeneration())
                || !Objects.equals(o.getAnnotations(), n.getAnnotations())
                || !Objects.equals(o.getDeletionTimestamp(), n.getDeletionTimestamp())
                || !Objects.equals(o.getFinalizers(), n.getFinalizers());
    }

    private void stopLeading() {
        boolean wasLeading = leading.getAndSet(false);
        stopRunning();
        LOG.atWarn().addKeyValue("identity", config.identity()).log("leadership lost");
        if (wasLeading) {
            onLostLeadership.run();
        }
    }

    private void stopRunning() {
        metrics.leading(false);
        stopControllers();
        if (sharedCaches != null) {
            sharedCaches.stop();
            sharedCaches = null;
        }
    }

    private void stopControllers() {
        Running r = running;
        running = null;
        if (r == null) {
            return;
        }
        r.controller().shutdown();
        r.caches().stop();
        r.registry().close();
        if (r.jobs() != null) {
            r.jobs().stop();
        }
        r.events().shutdown();
    }


    private void ensureNamespace() {
        try {
            new CoreV1Api(client).createNamespace(new V1Namespace().metadata(new V1ObjectMeta()
                    .name(config.clusterObjectNamespace()))).execute();
        } catch (ApiException e) {
            if (e.getCode() != 409 && e.getCode() != 403) {
                LOG.atWarn().addKeyValue("namespace", config.clusterObjectNamespace()).addKeyValue("code", e.getCode())
                        .log("namespace check failed");
            }
        }
    }

    /**
     * Empties the Lease's holder if this process holds it, as client-go's ReleaseOnCancel does: a standby sees an
     * empty record and takes over at its next retry (2 s) instead of waiting out the lease duration.
     */
    private void releaseLease() {
        if (lock == null) {
            return;
        }
        try {
            if (lock.release()) {
                LOG.atInfo().addKeyValue("identity", config.identity()).log("lease released");
            }
        } catch (ApiException e) {
            LOG.atWarn().addKeyValue("identity", config.identity()).addKeyValue("code", e.getCode())
                    .log("lease not released; a standby takes over when it expires");
        }
    }

    /** Stops everything and, if this process leads, hands the Lease over. */
    @Override
    public void close() {
        boolean wasLeading = leading.getAndSet(false);
        if (membership != null) {
            // No pass is open once it returns, and its Lease is gone, so the others take the share at once.
            membership.close();
        }
        if (resharding != null) {
            resharding.shutdownNow();
        }
        if (wasLeading) {
            // First, so the standby can lead while this process still stops: the release also ends our renewals.
            releaseLease();
        }
        stopRunning();
        if (elector != null) {
            elector.close();
        }
        stopped.countDown();
    }
}
