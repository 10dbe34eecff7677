package dev.lagscaler.controller;

import dev.lagscaler.KedaKeys;
import dev.lagscaler.plan.TargetClaims;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesApi;
import io.kubernetes.client.util.generic.dynamic.DynamicKubernetesObject;
import io.kubernetes.client.util.generic.options.ListOptions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ScaledObjects on a target that other replicas hold, for a replica that caches only its own share (server-side
 * sharding): two ScaledObjects on one workload may fall in different shards, and the later one must still stand
 * down. Each object's claim is checked once (per target) against a list of its namespace's ScaledObjects read after
 * the object was made: the later of two always sees the earlier, which is the rule's whole need (the earlier keeps
 * the workload). A namespace's list serves the objects made before it was read for a few seconds, so a share that
 * moves costs one list per namespace, not one per object.
 */
final class CrossShardClaims {
    /** A list newer than an object's creation by this much has it and everything made before it. */
    private static final Duration CLOCK_MARGIN = Duration.ofSeconds(2);
    private static final Duration REUSE = Duration.ofSeconds(10);
    /** ScaledObjects per list request. */
    private static final int PAGE = 500;

    private final DynamicKubernetesApi scaledObjects;
    private final Clock clock;
    private final int page;
    private final Map<String, Listing> byNamespace = new ConcurrentHashMap<>();
    /** "uid/kind/name": objects whose claim on that target was checked with nobody earlier on it. */
    private final Set<String> verified = ConcurrentHashMap.newKeySet();

    /** A namespace's ScaledObjects as the rule needs them: name, creation, target ("kind/name"). */
    private record Claim(String name, Instant createdAt, String target) {
    }

    private record Listing(Instant readAt, List<Claim> claims) {
    }

    CrossShardClaims(ApiClient requests, Clock clock) {
        this(requests, clock, PAGE);
    }

    CrossShardClaims(ApiClient requests, Clock clock, int page) {
        this.scaledObjects = new DynamicKubernetesApi(KedaKeys.GROUP, KedaKeys.VERSION, KedaKeys.SCALED_OBJECTS, requests);
        this.clock = clock;
        this.page = page;
    }

    /** The other ScaledObjects on the target, of any shard; empty once this object's claim on it was checked. */
    List<TargetClaims.OtherScaledObject> others(String namespace, String name, String uid, Instant createdAt, String kind,
                                                String target) throws ApiException {
        String claim = uid + "/" + kind + "/" + target;
        if (verified.contains(claim)) {
            return List.of();
        }
        Instant now = clock.instant();
        Listing listing;
        try {
            // One list at a time per namespace (a moved share asks for many objects of one namespace at once).
            listing = byNamespace.compute(namespace, (ns, current) -> current != null
                    && current.readAt().isAfter(createdAt.plus(CLOCK_MARGIN)) && !current.readAt().isBefore(now.minus(REUSE))
                    ? current : read(ns));
        } catch (UncheckedApiException e) {
            throw e.cause;
        }
        List<TargetClaims.OtherScaledObject> others = new ArrayList<>();
        boolean earlier = false;
        for (Claim c : listing.claims()) {
            if (c.name().equals(name) || !c.target().equals(kind + "/" + target)) {
                continue;
            }
            others.add(new TargetClaims.OtherScaledObject(c.name(), c.createdAt()));
            earlier |= !c.createdAt().isAfter(createdAt);
        }
        if (!earlier) {
            verified.add(claim);
        }
        return others;
    }

    /**
     * The namespace's claims, read a page at a time: only the claims are kept, so a page is all of the objects held at
     * once (the whole list of 10,000 ScaledObjects, read every few seconds while a share was first reconciled, was
     * most of a replica's heap in a class histogram).
     */
    private Listing read(String namespace) {
        Instant readAt = clock.instant();
        List<Claim> claims = new ArrayList<>();
        String next = null;
        do {
            ListOptions options = new ListOptions();
            options.setLimit(page);
            options.setContinue(next);
            var response = scaledObjects.list(namespace, options);
            if (!response.isSuccess()) {
                throw new UncheckedApiException(new ApiException(response.getHttpStatusCode(),
                        "listing the ScaledObjects of " + namespace));
            }
            for (DynamicKubernetesObject so : response.getObject().getItems()) {
                if (so.getMetadata().getDeletionTimestamp() == null) {
                    claims.add(new Claim(so.getMetadata().getName(), so.getMetadata().getCreationTimestamp() == null
                            ? Instant.EPOCH : so.getMetadata().getCreationTimestamp().toInstant(), ClusterCaches.targetOf(so)));
                }
            }
            var metadata = response.getObject().getMetadata();
            next = metadata == null || metadata.getContinue() == null || metadata.getContinue().isEmpty()
                    ? null : metadata.getContinue();
        } while (next != null);
        return new Listing(readAt, claims);
    }

    private static final class UncheckedApiException extends RuntimeException {
        private final ApiException cause;

        UncheckedApiException(ApiException cause) {
            super(cause);
            this.cause = cause;
        }
    }
}
