package dev.lagscaler.controller;

import dev.lagscaler.shard.ShardAssignment;
import dev.lagscaler.shard.ShardRing;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.models.V1Lease;
import io.kubernetes.client.openapi.models.V1LeaseSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1OwnerReference;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One operator replica among several, each acting on its share of the objects ({@link ShardAssignment}). Each replica
 * renews a Lease of its own ({@code <group>-<identity>}, labelled with the group) that carries the view it has settled
 * into; each lists the group's Leases every retry period, counts a member live while its Lease keeps changing (by this
 * process's clock, as client-go's elector judges a leader), and moves ownership only through an agreed view.
 *
 * <p>The fence: a replica that has not renewed its Lease for {@code renewDeadline} (two thirds of the lease duration)
 * holds nothing, before any other replica can count it gone (a full lease duration without a change), and starts
 * over when it renews again. A replica that stops cleanly deletes its Lease, so the others move on at their next list.
 */
final class ShardMembership implements Ownership, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShardMembership.class);
    static final String GROUP_LABEL = "lagscaler.dev/shard-group";
    static final String VIEW_ANNOTATION = "lagscaler.dev/shard-view";
    private static final String NO_VIEW = "none";

    private final CoordinationV1Api api;
    private final String namespace;
    private final String group;
    private final String identity;
    private final Duration leaseDuration;
    private final Duration retryPeriod;
    private final V1OwnerReference owner;
    /** Called with (before, after) on every change of what is held: under the write lock when holdings shrink. */
    private final BiConsumer<ShardAssignment, ShardAssignment> onChange;
    private final ReentrantReadWriteLock passes = new ReentrantReadWriteLock();
    /** Per member Lease: its resourceVersion and when this process saw it change. */
    private final Map<String, Seen> seen = new HashMap<>();

    private volatile ShardAssignment assignment;
    private volatile String published = NO_VIEW;
    private volatile long lastRenewNanos = Long.MIN_VALUE;
    private volatile boolean closed;
    private V1Lease mine;
    private Thread thread;

    private record Seen(String resourceVersion, long atNanos, String view) {
    }

    ShardMembership(CoordinationV1Api api, String namespace, String group, String identity, Duration leaseDuration,
                    Duration retryPeriod, V1OwnerReference owner, BiConsumer<ShardAssignment, ShardAssignment> onChange) {
        this.api = api;
        this.namespace = namespace;
        this.group = group;
        this.identity = identity;
        this.leaseDuration = leaseDuration;
        this.retryPeriod = retryPeriod;
        this.owner = owner;
        this.onChange = onChange;
        this.assignment = ShardAssignment.initial(identity);
    }

    void start() {
        thread = new Thread(this::run, "shard-membership");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public Pass enter(String uid) {
        ReentrantReadWriteLock.ReadLock lock = passes.readLock();
        lock.lock();
        boolean ours = assignment.holds(uid);
        boolean fenced = fenced();
        return new Pass() {
            @Override
            public boolean held() {
                return ours && !fenced;
            }

            @Override
            public boolean fenced() {
                return ours && fenced;
            }

            @Override
            public void close() {
                lock.unlock();
            }
        };
    }

    /** Whether the object is held now, without a pass: for counting, never for acting. */
    boolean holdsNow(String uid) {
        return !fenced() && assignment.holds(uid);
    }

    /** What this replica holds now (for metrics and tests). */
    ShardAssignment assignment() {
        return assignment;
    }

    /** Whether this replica has settled into the latest ring it saw (its share is all held). */
    boolean settled() {
        return !fenced() && assignment.settled() && !assignment.target().isEmpty();
    }

    private boolean fenced() {
        long last = lastRenewNanos;
        return last == Long.MIN_VALUE || System.nanoTime() - last > leaseDuration.multipliedBy(2).dividedBy(3).toNanos();
    }

    private void run() {
        while (!closed) {
            try {
                step();
            } catch (RuntimeException e) {
                LOG.atWarn().addKeyValue("identity", identity).addKeyValue("error", e.toString()).log("shard membership step failed");
            }
            try {
                Thread.sleep(retryPeriod.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One round: renew, list, move; again at once when this round published a new view. */
    private void step() {
        for (int round = 0; round < 2 && !closed; round++) {
            boolean renewed = renew();
            if (!renewed && fenced() && !assignment.equals(ShardAssignment.initial(identity))) {
                LOG.atWarn().addKeyValue("identity", identity).log("Lease not renewed in time: holding nothing");
                install(ShardAssignment.initial(identity));
                published = NO_VIEW;
                return;
            }
            Map<String, String> views = liveViews();
            if (views == null || fenced()) {
                return;
            }
            ShardAssignment next = assignment.next(views);
            if (next.equals(assignment)) {
                return;
            }
            install(next);
            if (next.target().view().equals(published)) {
                return;
            }
            published = next.target().view();
        }
    }

    /** Installs the next assignment; when it holds less than now, only once no reconcile pass is open. */
    private void install(ShardAssignment next) {
        ShardAssignment before = assignment;
        ReentrantReadWriteLock.WriteLock lock = passes.writeLock();
        lock.lock();
        try {
            assignment = next;
            onChange.accept(before, next);
        } finally {
            lock.unlock();
        }
        LOG.atInfo().addKeyValue("identity", identity).addKeyValue("members", next.target().members())
                .addKeyValue("settled", next.settled()).log("shard assignment changed");
    }

    /** Writes this replica's Lease: renewTime now, the published view. Returns whether the apiserver took it. */
    private boolean renew() {
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        try {
            if (mine == null) {
                try {
                    mine = api.readNamespacedLease(leaseName(), namespace).execute();
                } catch (ApiException e) {
                    if (e.getCode() != 404) {
                        throw e;
                    }
                    V1ObjectMeta meta = new V1ObjectMeta().name(leaseName()).namespace(namespace)
                            .putLabelsItem(GROUP_LABEL, group).putAnnotationsItem(VIEW_ANNOTATION, published);
                    if (owner != null) {
                        meta.addOwnerReferencesItem(owner);
                    }
                    mine = api.createNamespacedLease(namespace, new V1Lease().metadata(meta).spec(new V1LeaseSpec()
                            .holderIdentity(identity).leaseDurationSeconds((int) leaseDuration.toSeconds())
                            .acquireTime(now).renewTime(now))).execute();
                    lastRenewNanos = System.nanoTime();
                    return true;
                }
            }
            long started = System.nanoTime();
            mine.getMetadata().putAnnotationsItem(VIEW_ANNOTATION, published);
            mine.getSpec().holderIdentity(identity).renewTime(now).leaseDurationSeconds((int) leaseDuration.toSeconds());
            mine = api.replaceNamespacedLease(leaseName(), namespace, mine).execute();
            lastRenewNanos = started;
            return true;
        } catch (ApiException e) {
            mine = null; // read again next round (a 409: someone wrote it; a 404: deleted)
            LOG.atWarn().addKeyValue("identity", identity).addKeyValue("code", e.getCode()).log("shard Lease not renewed");
            return false;
        }
    }

    /** The live members and their published views, this replica's own from memory; null when the list failed. */
    private Map<String, String> liveViews() {
        List<V1Lease> leases;
        try {
            leases = api.listNamespacedLease(namespace).labelSelector(GROUP_LABEL + "=" + group).execute().getItems();
        } catch (ApiException e) {
            LOG.atWarn().addKeyValue("identity", identity).addKeyValue("code", e.getCode()).log("shard Leases not listed");
            return null;
        }
        long now = System.nanoTime();
        Map<String, String> live = new TreeMap<>();
        Map<String, Seen> still = new HashMap<>();
        for (V1Lease lease : leases) {
            String member = lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
            if (member == null || member.isEmpty()) {
                continue;
            }
            String version = lease.getMetadata().getResourceVersion();
            Seen before = seen.get(member);
            Seen now_ = before != null && before.resourceVersion().equals(version) ? before
                    : new Seen(version, now, viewOf(lease));
            still.put(member, now_);
            if (member.equals(identity) || now - now_.atNanos() < leaseDuration.toNanos()) {
                live.put(member, member.equals(identity) ? published : now_.view());
            }
        }
        seen.clear();
        seen.putAll(still);
        if (!live.containsKey(identity)) {
            live.put(identity, published); // our Lease is written before the list: a list that lacks it is stale
        }
        return live;
    }

    private static String viewOf(V1Lease lease) {
        Map<String, String> annotations = lease.getMetadata().getAnnotations();
        return annotations == null ? NO_VIEW : annotations.getOrDefault(VIEW_ANNOTATION, NO_VIEW);
    }

    private String leaseName() {
        return group + "-" + identity;
    }

    /** Stops acting and deletes this replica's Lease, so the others take its share at their next list. */
    @Override
    public void close() {
        closed = true;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(retryPeriod.multipliedBy(5).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        install(ShardAssignment.initial(identity));
        lastRenewNanos = Long.MIN_VALUE;
        try {
            api.deleteNamespacedLease(leaseName(), namespace).execute();
            LOG.atInfo().addKeyValue("identity", identity).log("shard Lease deleted");
        } catch (ApiException e) {
            if (e.getCode() != 404) {
                LOG.atWarn().addKeyValue("identity", identity).addKeyValue("code", e.getCode())
                        .log("shard Lease not deleted; the others take its share when it expires");
            }
        }
    }
}
