package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.plan.TargetClaims;
import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.extended.controller.reconciler.Request;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.AutoscalingV2Api;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1DeploymentSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1OwnerReference;
import io.kubernetes.client.openapi.models.V1DeploymentList;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1StatefulSet;
import io.kubernetes.client.openapi.models.V1StatefulSetSpec;
import io.kubernetes.client.openapi.models.V1StatefulSetList;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscalerList;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscalerStatus;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * What the operator reads, kept current by watches: ScaledObjects (indexed by the trigger authentications they
 * reference and by their target), TriggerAuthentications, ClusterTriggerAuthentications, every HPA (indexed by
 * target and by owning ScaledObject: KEDA's HPAs must be seen to be adopted, and anyone's to be refused),
 * Deployments and StatefulSets. A reconcile reads these, never the apiserver, except /scale of other kinds and
 * Secrets by name.
 */
final class ClusterCaches {
    private static final String BY_AUTHENTICATION = "authenticationRef";
    private static final String BY_TARGET = "scaleTarget";
    private static final String BY_OWNER = "ownerScaledObject";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longer strings are names, messages and timestamps: seldom shared, so not worth a place in the string table. */
    private static final int INTERNED_VALUE_LENGTH = 24;

    private final SharedInformerFactory scaledObjectFactory;
    private final SharedIndexInformer<DynamicKubernetesObject> scaledObjects;
    private final Shared shared;
    /** Whether stopping these caches stops the shared ones too (they were made for these alone). */
    private final boolean ownsShared;

    /**
     * The caches a replica needs whole whatever its share: (Cluster)TriggerAuthentications, every HPA, Deployment and
     * StatefulSet (a target is not sharded by its ScaledObject's uid). A replica whose apiserver filters by shard
     * restarts only its ScaledObject caches on a new share and keeps these: restarting them listed every Deployment
     * and HPA of the cluster again, whole, beside the caches still held (at 10,000 of each, a replica with a 400 MB
     * heap ran out of it on its second share, 3 s after it started). Their event handlers wake the ScaledObjects of
     * the caches started last.
     */
    static final class Shared {
        // One factory per dynamic resource (a factory keeps one informer per Java class); the typed kinds share one.
        private final List<SharedInformerFactory> factories = new ArrayList<>();
        private final SharedIndexInformer<DynamicKubernetesObject> triggerAuthentications;
        private final SharedIndexInformer<DynamicKubernetesObject> clusterTriggerAuthentications;
        private final SharedIndexInformer<V2HorizontalPodAutoscaler> hpas;
        private final SharedIndexInformer<V1Deployment> deployments;
        private final SharedIndexInformer<V1StatefulSet> statefulSets;
        /** The ScaledObject caches whose objects the handlers wake, and how; null until some are started. */
        private volatile ClusterCaches current;
        private volatile Consumer<Request> wake;
        private boolean started;

        Shared(ApiClient client) {
            triggerAuthentications = factory(client).sharedIndexInformerFor(
                    ReleasingListerWatcher.dynamic(dynamic(client, KedaKeys.TRIGGER_AUTHENTICATIONS)), DynamicKubernetesObject.class, 0);
            clusterTriggerAuthentications = factory(client).sharedIndexInformerFor(
                    ReleasingListerWatcher.dynamic(dynamic(client, KedaKeys.CLUSTER_TRIGGER_AUTHENTICATIONS)),
                    DynamicKubernetesObject.class, 0);
            SharedInformerFactory typed = factory(client);
            AutoscalingV2Api autoscaling = new AutoscalingV2Api(client);
            AppsV1Api apps = new AppsV1Api(client);
            hpas = typed.sharedIndexInformerFor(ReleasingListerWatcher.typed(client,
                    (params, limit, next) -> autoscaling.listHorizontalPodAutoscalerForAllNamespaces()
                            .resourceVersion(params.resourceVersion).timeoutSeconds(params.timeoutSeconds)
                            .watch(params.watch).limit(limit)._continue(next).buildCall(null),
                    V2HorizontalPodAutoscaler.class, V2HorizontalPodAutoscalerList.class, ClusterCaches::slimHpa),
                    V2HorizontalPodAutoscaler.class, 0);
            deployments = typed.sharedIndexInformerFor(ReleasingListerWatcher.typed(client,
                    (params, limit, next) -> apps.listDeploymentForAllNamespaces().resourceVersion(params.resourceVersion)
                            .timeoutSeconds(params.timeoutSeconds).watch(params.watch).limit(limit)._continue(next)
                            .buildCall(null),
                    V1Deployment.class, V1DeploymentList.class, ClusterCaches::slimTarget), V1Deployment.class, 0);
            statefulSets = typed.sharedIndexInformerFor(ReleasingListerWatcher.typed(client,
                    (params, limit, next) -> apps.listStatefulSetForAllNamespaces().resourceVersion(params.resourceVersion)
                            .timeoutSeconds(params.timeoutSeconds).watch(params.watch).limit(limit)._continue(next)
                            .buildCall(null),
                    V1StatefulSet.class, V1StatefulSetList.class, ClusterCaches::slimTarget), V1StatefulSet.class, 0);
            triggerAuthentications.setTransform(ClusterCaches::compactResource);
            clusterTriggerAuthentications.setTransform(ClusterCaches::compactResource);
            // Every replica caches every HPA, Deployment and StatefulSet of the cluster, so of those it keeps only
            // what a reconcile reads.
            hpas.setTransform(ClusterCaches::slimHpa);
            deployments.setTransform(ClusterCaches::slimTarget);
            statefulSets.setTransform(ClusterCaches::slimTarget);
            hpas.addIndexers(Map.of(BY_TARGET, hpa -> List.of(hpaTarget(hpa)),
                    BY_OWNER, hpa -> ownerUid(hpa) == null ? List.of() : List.of(ownerUid(hpa))));
            wakeDependents();
        }

        private SharedInformerFactory factory(ApiClient client) {
            SharedInformerFactory f = new SharedInformerFactory(client);
            factories.add(f);
            return f;
        }

        /** Starts the informers once; later calls (the caches of a new share) find them running. */
        synchronized void start() {
            if (!started) {
                factories.forEach(SharedInformerFactory::startAllRegisteredInformers);
                started = true;
            }
        }

        void stop() {
            factories.forEach(SharedInformerFactory::stopAllRegisteredInformers);
        }

        /** The ScaledObjects of the current caches on the index {@code index} at {@code key}; none before any. */
        private List<DynamicKubernetesObject> scaledObjects(String index, String key) {
            ClusterCaches c = current;
            return c == null ? List.of() : c.scaledObjects.getIndexer().byIndex(index, key);
        }

        private void wake(Request request) {
            Consumer<Request> w = wake;
            if (w != null) {
                w.accept(request);
            }
        }

        /**
         * Wakes ScaledObjects when something they depend on changes: a (Cluster)TriggerAuthentication they reference
         * (found through the index), or an HPA of theirs whose spec someone else changed or that was deleted. The HPA
         * controller's status writes (every sync period) wake nothing.
         */
        private void wakeDependents() {
            ResourceEventHandler<DynamicKubernetesObject> authChanged = onEveryChange(auth -> {
                String namespace = auth.getMetadata().getNamespace();
                String kind = namespace == null ? "ClusterTriggerAuthentication" : "TriggerAuthentication";
                scaledObjects(BY_AUTHENTICATION, authKey(kind, namespace, auth.getMetadata().getName()))
                        .forEach(so -> wake(new Request(so.getMetadata().getNamespace(), so.getMetadata().getName())));
            });
            triggerAuthentications.addEventHandler(authChanged);
            clusterTriggerAuthentications.addEventHandler(authChanged);
            Consumer<V2HorizontalPodAutoscaler> owner = hpa -> {
                V1OwnerReference ref = owner(hpa);
                if (ref != null) {
                    wake(new Request(hpa.getMetadata().getNamespace(), ref.getName()));
                }
            };
            // An HPA that appears or goes away on a target may start or end a conflict: every ScaledObject on that
            // target looks again (a conflict waits for this, it does not retry).
            Consumer<V2HorizontalPodAutoscaler> onTarget = hpa -> {
                owner.accept(hpa);
                scaledObjects(BY_TARGET, hpaTarget(hpa)).forEach(so -> wake(
                        new Request(so.getMetadata().getNamespace(), so.getMetadata().getName())));
            };
            hpas.addEventHandler(new ResourceEventHandler<>() {
                @Override
                public void onAdd(V2HorizontalPodAutoscaler hpa) {
                    onTarget.accept(hpa);
                }

                @Override
                public void onUpdate(V2HorizontalPodAutoscaler oldHpa, V2HorizontalPodAutoscaler newHpa) {
                    if (!Objects.equals(oldHpa.getMetadata().getGeneration(), newHpa.getMetadata().getGeneration())) {
                        owner.accept(newHpa);
                    }
                }

                @Override
                public void onDelete(V2HorizontalPodAutoscaler hpa, boolean unknown) {
                    onTarget.accept(hpa);
                }
            });
        }
    }

    ClusterCaches(ApiClient client) {
        this(client, new Shared(client), true);
    }

    /** ScaledObject caches of their own beside {@code shared}, which stopping these leaves running. */
    ClusterCaches(ApiClient client, Shared shared) {
        this(client, shared, false);
    }

    private ClusterCaches(ApiClient client, Shared shared, boolean ownsShared) {
        this.shared = shared;
        this.ownsShared = ownsShared;
        scaledObjectFactory = new SharedInformerFactory(client);
        scaledObjects = scaledObjectFactory.sharedIndexInformerFor(
                ReleasingListerWatcher.dynamic(dynamic(client, KedaKeys.SCALED_OBJECTS)), DynamicKubernetesObject.class, 0);
        scaledObjects.setTransform(ClusterCaches::packScaledObject);
        scaledObjects.addIndexers(Map.of(BY_AUTHENTICATION, ClusterCaches::authenticationRefs,
                BY_TARGET, so -> List.of(scaledObjectTarget(so))));
    }

    /**
     * What a cache keeps of an object: all but {@code metadata.managedFields}, which nothing here reads (no cached
     * object is ever written back whole) and which was the largest part of each cached ScaledObject (a class
     * histogram at 3,000 objects: most of the 1.2 million Strings and half a million JSON tree nodes in the heap).
     */
    static KubernetesObject withoutManagedFields(KubernetesObject object) {
        if (object instanceof DynamicKubernetesObject dynamic) {
            JsonElement metadata = dynamic.getRaw().get("metadata");
            if (metadata != null && metadata.isJsonObject()) {
                metadata.getAsJsonObject().remove("managedFields");
            }
        } else if (object.getMetadata() != null) {
            object.getMetadata().setManagedFields(null);
        }
        return object;
    }

    /**
     * What the cache keeps of a custom resource (a keda.sh object): all but its managedFields, in a JSON tree whose
     * member names and short string values are interned. Each tree otherwise holds its own copy of every key
     * ("apiVersion", "conditions", "lastTransitionTime", ...) and of every repeated value ("True", "kafka"): in a class
     * histogram of 10,000 cached ScaledObjects, 1.8 million Strings, most of the heap.
     */
    static KubernetesObject compactResource(KubernetesObject object) {
        withoutManagedFields(object);
        if (object instanceof DynamicKubernetesObject dynamic) {
            intern(dynamic.getRaw());
        }
        return object;
    }

    /**
     * A cached ScaledObject: the tree of its metadata and spec (what the indexes, the update filter and the counts
     * read) and its status as the JSON text it came in, which only a reconcile of that one object reads, parsing it
     * again. A reconciled object's status (conditions with their messages and times, health per trigger, metric names)
     * is most of its tree: kept as a tree, every replica that filters on its own side holds that for every object of
     * the cluster.
     */
    static final class CachedScaledObject extends DynamicKubernetesObject {
        private final byte[] status;

        CachedScaledObject(JsonObject withoutStatus, byte[] status) {
            super(withoutStatus);
            this.status = status;
        }
    }

    /** {@link #compactResource}, with the status moved out of the tree into {@link CachedScaledObject}. */
    static KubernetesObject packScaledObject(KubernetesObject object) {
        // A resync passes the cached objects through the transform again.
        if (object instanceof CachedScaledObject || !(object instanceof DynamicKubernetesObject dynamic)) {
            return object;
        }
        JsonElement status = dynamic.getRaw().remove("status");
        compactResource(dynamic);
        return new CachedScaledObject(dynamic.getRaw(),
                status == null ? null : status.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** The same tree, in place, its member names and short string values interned (members keep their order). */
    static void intern(JsonObject object) {
        List<Map.Entry<String, JsonElement>> members = new ArrayList<>(object.entrySet());
        members.forEach(m -> object.remove(m.getKey()));
        members.forEach(m -> object.add(m.getKey().intern(), interned(m.getValue())));
    }

    private static JsonElement interned(JsonElement element) {
        if (element.isJsonObject()) {
            intern(element.getAsJsonObject());
        } else if (element.isJsonArray()) {
            JsonArray array = element.getAsJsonArray();
            for (int i = 0; i < array.size(); i++) {
                array.set(i, interned(array.get(i)));
            }
        } else if (element.isJsonPrimitive() && element.getAsJsonPrimitive().isString()
                && element.getAsString().length() <= INTERNED_VALUE_LENGTH) {
            return new JsonPrimitive(element.getAsString().intern());
        }
        return element;
    }

    /**
     * What the cache keeps of a Deployment or StatefulSet: what {@link ScaleTargets} reads (name, version,
     * {@code spec.replicas}) and, only when a container has any, each container's name, env and envFrom (a trigger's
     * {@code ...FromEnv} parameter or TriggerAuthentication {@code env} source reads them; a template without any gives
     * every container an empty environment, as no template does). Not its labels, annotations (often a whole copy of
     * the object in kubectl's last-applied-configuration), selector, strategy, status, or the rest of the pod spec.
     */
    static KubernetesObject slimTarget(KubernetesObject object) {
        // In place, as withoutManagedFields: client-java's reflector keeps its first list (these very objects) for as
        // long as it watches, so with a slim copy every full object stayed in memory beside it (a class histogram at
        // 10,000 Deployments: 10,000 whole pod templates and their statuses).
        V1ObjectMeta meta = object.getMetadata();
        if (meta != null) {
            meta.setLabels(null);
            meta.setAnnotations(null);
            meta.setFinalizers(null);
            meta.setOwnerReferences(null);
            meta.setManagedFields(null);
            meta.setCreationTimestamp(null);
        }
        if (object instanceof V1Deployment d) {
            d.setStatus(null);
            V1DeploymentSpec spec = d.getSpec();
            if (spec != null) {
                spec.setSelector(null);
                spec.setStrategy(null);
                spec.setTemplate(environmentOnly(spec.getTemplate()));
            }
        } else if (object instanceof V1StatefulSet s) {
            s.setStatus(null);
            V1StatefulSetSpec spec = s.getSpec();
            if (spec != null) {
                spec.setSelector(null);
                spec.setUpdateStrategy(null);
                spec.setVolumeClaimTemplates(null);
                spec.setTemplate(environmentOnly(spec.getTemplate()));
            }
        }
        return object;
    }

    /** Each container's name, env and envFrom; null when no container has either. */
    private static V1PodTemplateSpec environmentOnly(V1PodTemplateSpec template) {
        List<V1Container> containers = template == null || template.getSpec() == null
                || template.getSpec().getContainers() == null ? List.of() : template.getSpec().getContainers();
        if (containers.stream().allMatch(c -> isEmpty(c.getEnv()) && isEmpty(c.getEnvFrom()))) {
            return null;
        }
        return new V1PodTemplateSpec().spec(new V1PodSpec().containers(new ArrayList<>(containers.stream()
                .map(c -> new V1Container().name(c.getName()).env(c.getEnv()).envFrom(c.getEnvFrom())).toList())));
    }

    private static boolean isEmpty(List<?> list) {
        return list == null || list.isEmpty();
    }

    /**
     * What the cache keeps of an HPA: its metadata without managedFields, its spec (compared with the one we
     * want), and of its status only the replica counts (the ScaledObject's status reports the desired one): not the
     * conditions and current metric values the HPA controller rewrites on every sync.
     */
    static KubernetesObject slimHpa(KubernetesObject object) {
        withoutManagedFields(object);
        if (object instanceof V2HorizontalPodAutoscaler hpa && hpa.getStatus() != null) {
            V2HorizontalPodAutoscalerStatus status = hpa.getStatus();
            hpa.setStatus(new V2HorizontalPodAutoscalerStatus().currentReplicas(status.getCurrentReplicas())
                    .desiredReplicas(status.getDesiredReplicas()));
        }
        return object;
    }

    /** The factory holding the ScaledObject informer, which the controller builder watches. */
    SharedInformerFactory scaledObjectFactory() {
        return scaledObjectFactory;
    }

    void start() {
        scaledObjectFactory.startAllRegisteredInformers();
        shared.start();
    }

    void stop() {
        scaledObjectFactory.stopAllRegisteredInformers();
        if (ownsShared) {
            shared.stop();
        }
    }

    boolean hasSynced() {
        return scaledObjects.hasSynced() && shared.triggerAuthentications.hasSynced()
                && shared.clusterTriggerAuthentications.hasSynced() && shared.hpas.hasSynced()
                && shared.deployments.hasSynced() && shared.statefulSets.hasSynced();
    }

    /** The caches that have not synced yet, by kind (for the log line of a leader that gives up). */
    List<String> notSynced() {
        List<String> kinds = new ArrayList<>();
        Map<String, SharedIndexInformer<?>> all = new LinkedHashMap<>();
        all.put("ScaledObject", scaledObjects);
        all.put("TriggerAuthentication", shared.triggerAuthentications);
        all.put("ClusterTriggerAuthentication", shared.clusterTriggerAuthentications);
        all.put("HorizontalPodAutoscaler", shared.hpas);
        all.put("Deployment", shared.deployments);
        all.put("StatefulSet", shared.statefulSets);
        all.forEach((kind, informer) -> {
            if (!informer.hasSynced()) {
                kinds.add(kind);
            }
        });
        return kinds;
    }

    /** By "namespace/name"; null when absent. */
    JsonNode scaledObject(String key) {
        return json(scaledObjects.getIndexer().getByKey(key));
    }

    JsonNode triggerAuthentication(String key) {
        return json(shared.triggerAuthentications.getIndexer().getByKey(key));
    }

    JsonNode clusterTriggerAuthentication(String name) {
        return json(shared.clusterTriggerAuthentications.getIndexer().getByKey(name));
    }

    V2HorizontalPodAutoscaler hpa(String key) {
        return shared.hpas.getIndexer().getByKey(key);
    }

    /** The other ScaledObjects in the namespace on the same target (kind and name). */
    List<TargetClaims.OtherScaledObject> scaledObjectsOn(String namespace, String kind, String name, String except) {
        List<TargetClaims.OtherScaledObject> others = new ArrayList<>();
        for (DynamicKubernetesObject so : scaledObjects.getIndexer().byIndex(BY_TARGET, targetKey(namespace, kind, name))) {
            if (!so.getMetadata().getName().equals(except) && so.getMetadata().getDeletionTimestamp() == null) {
                OffsetDateTime created = so.getMetadata().getCreationTimestamp();
                others.add(new TargetClaims.OtherScaledObject(so.getMetadata().getName(),
                        created == null ? Instant.EPOCH : created.toInstant()));
            }
        }
        return others;
    }

    /** The HPAs that matter to a ScaledObject: those scaling its target, the one of its HPA's name, those it owns. */
    List<TargetClaims.SeenHpa> hpasAround(String namespace, String kind, String name, String hpaName, String ownerUid) {
        Map<String, V2HorizontalPodAutoscaler> found = new LinkedHashMap<>();
        shared.hpas.getIndexer().byIndex(BY_TARGET, targetKey(namespace, kind, name))
                .forEach(h -> found.put(h.getMetadata().getUid(), h));
        V2HorizontalPodAutoscaler named = hpa(namespace + "/" + hpaName);
        if (named != null) {
            found.put(named.getMetadata().getUid(), named);
        }
        shared.hpas.getIndexer().byIndex(BY_OWNER, ownerUid).forEach(h -> found.put(h.getMetadata().getUid(), h));
        return found.values().stream().map(ClusterCaches::seen).toList();
    }

    static TargetClaims.SeenHpa seen(V2HorizontalPodAutoscaler hpa) {
        V1OwnerReference owner = owner(hpa);
        var ref = hpa.getSpec() == null ? null : hpa.getSpec().getScaleTargetRef();
        return new TargetClaims.SeenHpa(hpa.getMetadata().getName(), hpa.getMetadata().getUid(),
                owner == null ? null : owner.getUid(), owner == null ? null : owner.getName(),
                ref == null ? "" : ref.getKind(), ref == null ? "" : ref.getName());
    }

    /** ScaledObjects in the cache, per namespace (KEDA's keda_resource_registered_total). */
    /** Each cached ScaledObject's "namespace/name" and uid. */
    void forEachScaledObject(java.util.function.BiConsumer<String, String> keyAndUid) {
        scaledObjects.getIndexer().list().forEach(so -> keyAndUid.accept(
                so.getMetadata().getNamespace() + "/" + so.getMetadata().getName(), so.getMetadata().getUid()));
    }

    Map<String, Long> scaledObjectsByNamespace() {
        Map<String, Long> counts = new java.util.TreeMap<>();
        scaledObjects.getIndexer().list().forEach(so -> counts.merge(so.getMetadata().getNamespace(), 1L, Long::sum));
        return counts;
    }

    /** Triggers of the cached ScaledObjects, per type (KEDA's keda_trigger_registered_total). */
    Map<String, Long> triggersByType() {
        Map<String, Long> counts = new java.util.TreeMap<>();
        for (DynamicKubernetesObject so : scaledObjects.getIndexer().list()) {
            JsonObject raw = so.getRaw();
            JsonElement spec = raw.get("spec");
            JsonElement triggers = spec != null && spec.isJsonObject() ? spec.getAsJsonObject().get("triggers") : null;
            if (triggers == null || !triggers.isJsonArray()) {
                continue;
            }
            for (JsonElement t : triggers.getAsJsonArray()) {
                JsonElement type = t.isJsonObject() ? t.getAsJsonObject().get("type") : null;
                if (type != null && type.isJsonPrimitive()) {
                    counts.merge(type.getAsString(), 1L, Long::sum);
                }
            }
        }
        return counts;
    }

    SharedIndexInformer<V1Deployment> deployments() {
        return shared.deployments;
    }

    SharedIndexInformer<V1StatefulSet> statefulSets() {
        return shared.statefulSets;
    }

    /**
     * Wakes these caches' ScaledObjects when something they depend on changes (the handlers of {@link Shared} wake
     * the caches that called this last), and the others on a target when a ScaledObject leaves it.
     */
    void wakeDependents(Consumer<Request> wake) {
        shared.wake = wake;
        shared.current = this;
        // A ScaledObject that goes away frees its target for the next one waiting on it.
        scaledObjects.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(DynamicKubernetesObject so) {
            }

            @Override
            public void onUpdate(DynamicKubernetesObject oldSo, DynamicKubernetesObject newSo) {
                if (!scaledObjectTarget(oldSo).equals(scaledObjectTarget(newSo))) {
                    wakeOthersOn(scaledObjectTarget(oldSo), oldSo, wake);
                }
            }

            @Override
            public void onDelete(DynamicKubernetesObject so, boolean unknown) {
                wakeOthersOn(scaledObjectTarget(so), so, wake);
            }
        });
    }

    private void wakeOthersOn(String target, DynamicKubernetesObject except, Consumer<Request> wake) {
        scaledObjects.getIndexer().byIndex(BY_TARGET, target).stream()
                .filter(so -> !so.getMetadata().getName().equals(except.getMetadata().getName()))
                .forEach(so -> wake.accept(new Request(so.getMetadata().getNamespace(), so.getMetadata().getName())));
    }

    /** The ScaledObject among an HPA's owners, or null. */
    private static V1OwnerReference owner(V2HorizontalPodAutoscaler hpa) {
        List<V1OwnerReference> refs = hpa.getMetadata().getOwnerReferences();
        if (refs == null) {
            return null;
        }
        return refs.stream().filter(r -> "ScaledObject".equals(r.getKind())
                && (KedaKeys.GROUP + "/" + KedaKeys.VERSION).equals(r.getApiVersion())).findFirst().orElse(null);
    }

    private static String ownerUid(V2HorizontalPodAutoscaler hpa) {
        V1OwnerReference owner = owner(hpa);
        return owner == null ? null : owner.getUid();
    }

    private static String hpaTarget(V2HorizontalPodAutoscaler hpa) {
        var ref = hpa.getSpec() == null ? null : hpa.getSpec().getScaleTargetRef();
        return ref == null ? "" : targetKey(hpa.getMetadata().getNamespace(), ref.getKind(), ref.getName());
    }

    /** As ScaledObjectParser reads it: kind Deployment unless the ref says otherwise. */
    /** A ScaledObject's target as "kind/name" (kind Deployment when unset). */
    static String targetOf(DynamicKubernetesObject so) {
        String key = scaledObjectTarget(so);
        return key.substring(key.indexOf('/') + 1);
    }

    private static String scaledObjectTarget(DynamicKubernetesObject so) {
        JsonObject raw = so.getRaw();
        JsonObject ref = raw.has("spec") && raw.get("spec").isJsonObject()
                && raw.getAsJsonObject("spec").has("scaleTargetRef")
                && raw.getAsJsonObject("spec").get("scaleTargetRef").isJsonObject()
                ? raw.getAsJsonObject("spec").getAsJsonObject("scaleTargetRef") : new JsonObject();
        String kind = ref.has("kind") && ref.get("kind").isJsonPrimitive() ? ref.get("kind").getAsString() : "Deployment";
        String name = ref.has("name") && ref.get("name").isJsonPrimitive() ? ref.get("name").getAsString() : "";
        return targetKey(so.getMetadata().getNamespace(), kind, name);
    }

    private static String targetKey(String namespace, String kind, String name) {
        return namespace + "/" + kind + "/" + name;
    }

    /** The (Cluster)TriggerAuthentications a ScaledObject's triggers reference, as index keys. */
    private static List<String> authenticationRefs(DynamicKubernetesObject so) {
        List<String> refs = new ArrayList<>();
        JsonObject spec = so.getRaw().has("spec") && so.getRaw().get("spec").isJsonObject()
                ? so.getRaw().getAsJsonObject("spec") : new JsonObject();
        JsonArray triggers = spec.has("triggers") && spec.get("triggers").isJsonArray()
                ? spec.getAsJsonArray("triggers") : new JsonArray();
        for (JsonElement t : triggers) {
            JsonElement ref = t.isJsonObject() ? t.getAsJsonObject().get("authenticationRef") : null;
            if (ref == null || !ref.isJsonObject() || !ref.getAsJsonObject().has("name")) {
                continue;
            }
            JsonElement kind = ref.getAsJsonObject().get("kind");
            boolean cluster = kind != null && kind.isJsonPrimitive() && "ClusterTriggerAuthentication".equals(kind.getAsString());
            refs.add(authKey(cluster ? "ClusterTriggerAuthentication" : "TriggerAuthentication",
                    cluster ? null : so.getMetadata().getNamespace(), ref.getAsJsonObject().get("name").getAsString()));
        }
        return refs;
    }

    private static String authKey(String kind, String namespace, String name) {
        return kind + "/" + (namespace == null ? "" : namespace) + "/" + name;
    }

    private static DynamicKubernetesApi dynamic(ApiClient client, String plural) {
        return new DynamicKubernetesApi(KedaKeys.GROUP, KedaKeys.VERSION, plural, client);
    }

    private static <T extends KubernetesObject> ResourceEventHandler<T> onEveryChange(
            Consumer<T> action) {
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

    /** A cached object as a Jackson tree, whole (a ScaledObject's status read back in). */
    static JsonNode json(DynamicKubernetesObject obj) {
        if (obj == null) {
            return null;
        }
        try {
            JsonNode tree = JSON.readTree(obj.getRaw().toString());
            if (obj instanceof CachedScaledObject packed && packed.status != null) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) tree).set("status", JSON.readTree(packed.status));
            }
            return tree;
        } catch (java.io.IOException e) {
            throw new IllegalStateException("unreadable object from the informer cache", e);
        }
    }
}
