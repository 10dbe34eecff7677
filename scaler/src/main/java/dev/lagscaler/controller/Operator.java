package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsSink;
import io.kubernetes.client.extended.controller.Controller;
import io.kubernetes.client.extended.controller.builder.ControllerBuilder;
import io.kubernetes.client.extended.controller.reconciler.Request;
import io.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.kubernetes.client.extended.leaderelection.LeaderElector;
import io.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.kubernetes.client.extended.workqueue.DefaultRateLimitingQueue;
import io.kubernetes.client.extended.workqueue.RateLimitingQueue;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator process: leader election on a Lease, then informers for ScaledObjects and (Cluster)
 * TriggerAuthentications, a rate-limited work queue and the {@link ScaledObjectReconciler} workers. Only the leader
 * polls Kafka and writes to the cluster.
 */
public final class Operator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Operator.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ApiClient client;
    private final LagEngine engine;
    private final OperatorConfig config;
    private final AtomicBoolean leading = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile Running running;
    private volatile Runnable onLostLeadership = () -> { };
    private Thread electionThread;
    private LeaderElector elector;

    /** What runs while this process leads. */
    private record Running(SharedInformerFactory[] factories, Controller controller, TriggerRegistry registry,
                           Thread controllerThread) {
    }

    private final MetricsSink metrics;

    public Operator(ApiClient client, LagEngine engine, OperatorConfig config) {
        this(client, engine, config, MetricsSink.NONE);
    }

    /** An operator that also sends metric values to {@code metrics} (the feed the adapter subscribes to). */
    public Operator(ApiClient client, LagEngine engine, OperatorConfig config, MetricsSink metrics) {
        this.client = client;
        this.engine = engine;
        this.config = config;
        this.metrics = metrics;
    }

    /** Called when leadership is lost after having been held (the process should exit so it restarts clean). */
    public Operator onLostLeadership(Runnable hook) {
        this.onLostLeadership = hook;
        return this;
    }

    public void start() {
        ensureNamespace();
        LeaseLock lock = new LeaseLock(config.clusterObjectNamespace(), config.leaseName(), config.identity(), client);
        Duration lease = config.leaseDuration();
        elector = new LeaderElector(new LeaderElectionConfig(lock, lease, lease.multipliedBy(2).dividedBy(3),
                Duration.ofSeconds(2)));
        electionThread = new Thread(() -> elector.run(this::startLeading, this::stopLeading), "leader-election");
        electionThread.setDaemon(true);
        electionThread.start();
        LOG.info("event=operator_started identity={} lease={}/{}", config.identity(), config.clusterObjectNamespace(),
                config.leaseName());
    }

    public boolean isLeader() {
        return leading.get();
    }

    /** Blocks until the operator stops. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    private void startLeading() {
        LOG.info("event=leader_elected identity={}", config.identity());
        try {
            startControllers();
            leading.set(true);
        } catch (RuntimeException | Error e) {
            // The elector runs this hook in a Future, which would swallow the failure silently.
            LOG.error("event=controller_start_failed error=\"{}\"", e.toString(), e);
            throw e;
        }
    }

    private void startControllers() {
        DynamicKubernetesApi soApi = new DynamicKubernetesApi(KedaKeys.GROUP, KedaKeys.VERSION, KedaKeys.SCALED_OBJECTS, client);
        DynamicKubernetesApi taApi = new DynamicKubernetesApi(KedaKeys.GROUP, KedaKeys.VERSION, KedaKeys.TRIGGER_AUTHENTICATIONS, client);
        DynamicKubernetesApi ctaApi = new DynamicKubernetesApi(KedaKeys.GROUP, KedaKeys.VERSION,
                KedaKeys.CLUSTER_TRIGGER_AUTHENTICATIONS, client);
        // One factory per dynamic resource: a factory keeps one informer per Java class.
        SharedInformerFactory soFactory = new SharedInformerFactory(client);
        SharedInformerFactory taFactory = new SharedInformerFactory(client);
        SharedInformerFactory ctaFactory = new SharedInformerFactory(client);
        SharedIndexInformer<DynamicKubernetesObject> soInformer =
                soFactory.sharedIndexInformerFor(soApi, DynamicKubernetesObject.class, 0);
        SharedIndexInformer<DynamicKubernetesObject> taInformer =
                taFactory.sharedIndexInformerFor(taApi, DynamicKubernetesObject.class, 0);
        SharedIndexInformer<DynamicKubernetesObject> ctaInformer =
                ctaFactory.sharedIndexInformerFor(ctaApi, DynamicKubernetesObject.class, 0);

        RateLimitingQueue<Request> queue = new DefaultRateLimitingQueue<>(Executors.newSingleThreadExecutor());
        TriggerRegistry registry = new TriggerRegistry(engine, key -> {
            String[] parts = key.split("/", 2);
            queue.add(new Request(parts[0], parts[1]));
        });
        KubeHttp http = new KubeHttp(client);
        CoreV1Api core = new CoreV1Api(client);
        AuthResolver auth = new AuthResolver(core, key -> json(taInformer.getIndexer().getByKey(key)),
                name -> json(ctaInformer.getIndexer().getByKey(name)), config.clusterObjectNamespace());
        ScaledObjectReconciler reconciler = new ScaledObjectReconciler(key -> json(soInformer.getIndexer().getByKey(key)),
                registry, auth, new ScaleClient(http), http, new EventRecorder(core), config, Clock.systemUTC(), metrics);

        ResourceEventHandler<DynamicKubernetesObject> authChanged = new ResourceEventHandler<>() {
            @Override
            public void onAdd(DynamicKubernetesObject obj) {
                enqueueUsers(obj);
            }

            @Override
            public void onUpdate(DynamicKubernetesObject oldObj, DynamicKubernetesObject newObj) {
                enqueueUsers(newObj);
            }

            @Override
            public void onDelete(DynamicKubernetesObject obj, boolean unknown) {
                enqueueUsers(obj);
            }

            private void enqueueUsers(DynamicKubernetesObject auth) {
                String name = auth.getMetadata().getName();
                String namespace = auth.getMetadata().getNamespace();
                for (DynamicKubernetesObject so : soInformer.getIndexer().list()) {
                    JsonNode spec = json(so);
                    for (JsonNode t : spec.path("spec").path("triggers")) {
                        JsonNode ref = t.path("authenticationRef");
                        boolean cluster = "ClusterTriggerAuthentication".equals(ref.path("kind").asText());
                        if (ref.path("name").asText().equals(name)
                                && (cluster ? namespace == null : Objects.equals(namespace, so.getMetadata().getNamespace()))) {
                            queue.add(new Request(so.getMetadata().getNamespace(), so.getMetadata().getName()));
                        }
                    }
                }
            }
        };
        taInformer.addEventHandler(authChanged);
        ctaInformer.addEventHandler(authChanged);

        // The queue must be set before watch(): the watch captures the builder's queue at that moment.
        Controller controller = ControllerBuilder.defaultBuilder(soFactory)
                .withWorkQueue(queue)
                .watch(q -> ControllerBuilder.controllerWatchBuilder(DynamicKubernetesObject.class, q)
                        .withOnUpdateFilter(Operator::significantChange)
                        .withResyncPeriod(Duration.ofMinutes(5))
                        .build())
                .withReconciler(reconciler)
                .withName("scaledobject-controller")
                .withWorkerCount(config.workers())
                .withReadyFunc(() -> soInformer.hasSynced() && taInformer.hasSynced() && ctaInformer.hasSynced())
                .build();
        soFactory.startAllRegisteredInformers();
        taFactory.startAllRegisteredInformers();
        ctaFactory.startAllRegisteredInformers();
        Thread controllerThread = new Thread(controller, "scaledobject-controller");
        controllerThread.setDaemon(true);
        controllerThread.start();
        running = new Running(new SharedInformerFactory[] {soFactory, taFactory, ctaFactory}, controller, registry,
                controllerThread);
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
        LOG.warn("event=leadership_lost identity={}", config.identity());
        if (wasLeading) {
            onLostLeadership.run();
        }
    }

    private void stopRunning() {
        Running r = running;
        running = null;
        if (r == null) {
            return;
        }
        r.controller().shutdown();
        for (SharedInformerFactory f : r.factories()) {
            f.stopAllRegisteredInformers();
        }
        r.registry().close();
    }

    private static JsonNode json(DynamicKubernetesObject obj) {
        if (obj == null) {
            return null;
        }
        try {
            return JSON.readTree(obj.getRaw().toString());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("unreadable object from the informer cache", e);
        }
    }

    private void ensureNamespace() {
        try {
            new CoreV1Api(client).createNamespace(new V1Namespace().metadata(new V1ObjectMeta()
                    .name(config.clusterObjectNamespace()))).execute();
        } catch (ApiException e) {
            if (e.getCode() != 409 && e.getCode() != 403) {
                LOG.warn("event=namespace_check_failed namespace={} code={}", config.clusterObjectNamespace(), e.getCode());
            }
        }
    }

    @Override
    public void close() {
        stopRunning();
        leading.set(false);
        if (elector != null) {
            elector.close();
        }
        stopped.countDown();
    }
}
