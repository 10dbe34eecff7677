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
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.AutoscalingV2Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1DeploymentList;
import io.kubernetes.client.openapi.models.V1EventSource;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1StatefulSet;
import io.kubernetes.client.openapi.models.V1StatefulSetList;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscalerList;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.extended.event.legacy.LegacyEventBroadcaster;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    static final String OWNED_HPAS = "app.kubernetes.io/managed-by=lagscaler";
    private static final String BY_AUTHENTICATION = "authenticationRef";

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
                           LegacyEventBroadcaster events, ScaledObjectReconciler reconciler, Thread controllerThread) {
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
        LOG.atInfo().addKeyValue("identity", config.identity())
                .addKeyValue("lease", config.clusterObjectNamespace() + "/" + config.leaseName()).log("operator started");
    }

    public boolean isLeader() {
        return leading.get();
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
        } catch (RuntimeException | Error e) {
            // The elector runs this hook in a Future, which would swallow the failure silently.
            LOG.atError().addKeyValue("identity", config.identity()).setCause(e).log("controllers failed to start");
            throw e;
        }
    }

    private void startControllers() {
        DynamicKubernetesApi soApi = new DynamicKubernetesApi(KedaKeys.GROUP, KedaKeys.VERSION, KedaKeys.SCALED_OBJECTS, client);
        DynamicKubernetesApi taApi = new DynamicKubernetesApi(KedaKeys.GROUP, KedaKeys.VERSION, KedaKeys.TRIGGER_AUTHENTICATIONS, client);
        DynamicKubernetesApi ctaApi = new DynamicKubernetesApi(KedaKeys.GROUP, KedaKeys.VERSION,
                KedaKeys.CLUSTER_TRIGGER_AUTHENTICATIONS, client);
        // One factory per dynamic resource (a factory keeps one informer per Java class); the typed kinds share one.
        SharedInformerFactory soFactory = new SharedInformerFactory(client);
        SharedInformerFactory taFactory = new SharedInformerFactory(client);
        SharedInformerFactory ctaFactory = new SharedInformerFactory(client);
        SharedInformerFactory typedFactory = new SharedInformerFactory(client);
        SharedIndexInformer<DynamicKubernetesObject> soInformer =
                soFactory.sharedIndexInformerFor(soApi, DynamicKubernetesObject.class, 0);
        SharedIndexInformer<DynamicKubernetesObject> taInformer =
                taFactory.sharedIndexInformerFor(taApi, DynamicKubernetesObject.class, 0);
        SharedIndexInformer<DynamicKubernetesObject> ctaInformer =
                ctaFactory.sharedIndexInformerFor(ctaApi, DynamicKubernetesObject.class, 0);
        AutoscalingV2Api autoscaling = new AutoscalingV2Api(client);
        AppsV1Api apps = new AppsV1Api(client);
        // Only the HPAs this operator made (label-selected), and the kinds most ScaledObjects target.
        SharedIndexInformer<V2HorizontalPodAutoscaler> hpaInformer = typedFactory.sharedIndexInformerFor(
                params -> autoscaling.listHorizontalPodAutoscalerForAllNamespaces().labelSelector(OWNED_HPAS)
                        .resourceVersion(params.resourceVersion).timeoutSeconds(params.timeoutSeconds)
                        .watch(params.watch).buildCall(null),
                V2HorizontalPodAutoscaler.class, V2HorizontalPodAutoscalerList.class);
        SharedIndexInformer<V1Deployment> deploymentInformer = typedFactory.sharedIndexInformerFor(
                params -> apps.listDeploymentForAllNamespaces().resourceVersion(params.resourceVersion)
                        .timeoutSeconds(params.timeoutSeconds).watch(params.watch).buildCall(null),
                V1Deployment.class, V1DeploymentList.class);
        SharedIndexInformer<V1StatefulSet> statefulSetInformer = typedFactory.sharedIndexInformerFor(
                params -> apps.listStatefulSetForAllNamespaces().resourceVersion(params.resourceVersion)
                        .timeoutSeconds(params.timeoutSeconds).watch(params.watch).buildCall(null),
                V1StatefulSet.class, V1StatefulSetList.class);
        soInformer.addIndexers(Map.of(BY_AUTHENTICATION, Operator::authenticationRefs));

        RateLimitingQueue<Request> queue = new DefaultRateLimitingQueue<>(Executors.newSingleThreadExecutor());
        TriggerRegistry registry = new TriggerRegistry(engine, key -> {
            String[] parts = key.split("/", 2);
            queue.add(new Request(parts[0], parts[1]));
        });
        CoreV1Api core = new CoreV1Api(client);
        AuthResolver auth = new AuthResolver(core, key -> json(taInformer.getIndexer().getByKey(key)),
                name -> json(ctaInformer.getIndexer().getByKey(name)), config.clusterObjectNamespace());
        LegacyEventBroadcaster broadcaster = new LegacyEventBroadcaster(core);
        ScaleTargets targets = new ScaleTargets(client, deploymentInformer, statefulSetInformer);
        ScaledObjectReconciler reconciler = new ScaledObjectReconciler(key -> json(soInformer.getIndexer().getByKey(key)),
                key -> hpaInformer.getIndexer().getByKey(key), registry, auth, targets,
                new PlanApplier(client, targets, broadcaster.newRecorder(new V1EventSource().component("lagscaler")), metrics),
                config, Clock.systemUTC(), metrics);

        // A changed (Cluster)TriggerAuthentication wakes the ScaledObjects that reference it, found through the index.
        ResourceEventHandler<DynamicKubernetesObject> authChanged = handler(obj -> {
            String kind = obj.getMetadata().getNamespace() == null ? "ClusterTriggerAuthentication" : "TriggerAuthentication";
            enqueueAll(queue, soInformer.getIndexer().byIndex(BY_AUTHENTICATION,
                    authKey(kind, obj.getMetadata().getNamespace(), obj.getMetadata().getName())));
        });
        taInformer.addEventHandler(authChanged);
        ctaInformer.addEventHandler(authChanged);
        // An HPA of ours whose spec someone else changed, or that was deleted, is put back by its ScaledObject; the HPA
        // controller's status writes (every sync period) wake nothing.
        java.util.function.Consumer<V2HorizontalPodAutoscaler> hpaOwner = hpa -> {
            Map<String, String> labels = hpa.getMetadata().getLabels();
            if (labels != null && labels.containsKey(KedaKeys.SCALED_OBJECT_LABEL)) {
                queue.add(new Request(hpa.getMetadata().getNamespace(), labels.get(KedaKeys.SCALED_OBJECT_LABEL)));
            }
        };
        hpaInformer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(V2HorizontalPodAutoscaler hpa) {
            }

            @Override
            public void onUpdate(V2HorizontalPodAutoscaler oldHpa, V2HorizontalPodAutoscaler newHpa) {
                if (!Objects.equals(oldHpa.getMetadata().getGeneration(), newHpa.getMetadata().getGeneration())) {
                    hpaOwner.accept(newHpa);
                }
            }

            @Override
            public void onDelete(V2HorizontalPodAutoscaler hpa, boolean unknown) {
                hpaOwner.accept(hpa);
            }
        });

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
                .withReadyFunc(() -> soInformer.hasSynced() && taInformer.hasSynced() && ctaInformer.hasSynced()
                        && hpaInformer.hasSynced() && deploymentInformer.hasSynced() && statefulSetInformer.hasSynced())
                .build();
        SharedInformerFactory[] factories = {soFactory, taFactory, ctaFactory, typedFactory};
        for (SharedInformerFactory f : factories) {
            f.startAllRegisteredInformers();
        }
        broadcaster.startRecording();
        Thread controllerThread = new Thread(controller, "scaledobject-controller");
        controllerThread.setDaemon(true);
        controllerThread.start();
        running = new Running(factories, controller, registry, broadcaster, reconciler, controllerThread);
    }

    /** The (Cluster)TriggerAuthentications a ScaledObject's triggers reference, as index keys. */
    private static List<String> authenticationRefs(DynamicKubernetesObject so) {
        List<String> refs = new ArrayList<>();
        JsonArray triggers = so.getRaw().has("spec") && so.getRaw().getAsJsonObject("spec").has("triggers")
                ? so.getRaw().getAsJsonObject("spec").getAsJsonArray("triggers") : new JsonArray();
        for (JsonElement t : triggers) {
            JsonElement ref = t.isJsonObject() ? t.getAsJsonObject().get("authenticationRef") : null;
            if (ref == null || !ref.isJsonObject() || !ref.getAsJsonObject().has("name")) {
                continue;
            }
            JsonElement kind = ref.getAsJsonObject().get("kind");
            String k = kind != null && "ClusterTriggerAuthentication".equals(kind.getAsString())
                    ? "ClusterTriggerAuthentication" : "TriggerAuthentication";
            refs.add(authKey(k, k.equals("TriggerAuthentication") ? so.getMetadata().getNamespace() : null,
                    ref.getAsJsonObject().get("name").getAsString()));
        }
        return refs;
    }

    private static String authKey(String kind, String namespace, String name) {
        return kind + "/" + (namespace == null ? "" : namespace) + "/" + name;
    }

    private static void enqueueAll(RateLimitingQueue<Request> queue, List<DynamicKubernetesObject> objects) {
        objects.forEach(so -> queue.add(new Request(so.getMetadata().getNamespace(), so.getMetadata().getName())));
    }

    /** The same action on add, update and delete. */
    private static <T extends KubernetesObject> ResourceEventHandler<T> handler(java.util.function.Consumer<T> action) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                action.accept(obj);
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                action.accept(newObj);
            }

            @Override
            public void onDelete(T obj, boolean unknown) {
                action.accept(obj);
            }
        };
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
        r.events().shutdown();
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
                LOG.atWarn().addKeyValue("namespace", config.clusterObjectNamespace()).addKeyValue("code", e.getCode())
                        .log("namespace check failed");
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
