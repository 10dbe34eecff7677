package dev.lagscaler.controller;

import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.extended.leaderelection.LeaderElectionRecord;
import io.kubernetes.client.extended.leaderelection.Lock;
import io.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.models.V1DeleteOptions;
import io.kubernetes.client.openapi.models.V1Lease;
import io.kubernetes.client.openapi.models.V1Preconditions;
import io.kubernetes.client.util.PatchUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * client-java's Lease lock with two things client-go has. A release, as client-go's ReleaseOnCancel: once released,
 * this process's elector can no longer renew or retake the Lease (its writes fail), and the Lease goes at once, so a
 * standby takes over at its next retry (it creates the Lease anew) instead of after the lease duration, and without
 * waiting for the elector to stop. It is deleted rather than emptied so that {@code helm uninstall}, which stops every
 * replica, leaves no Lease behind; and since a replica stopped by then (its RBAC may already be gone) cannot delete
 * it, a Lease this process creates is also owned by the operators' StatefulSet when one is named, so the garbage
 * collector removes it with the release. And an optimistic renewal, as client-go's leader elector does: while this
 * process's last write of the Lease stands, the elector's read before each renewal is answered with that write
 * instead of a GET, and the renewal is a write conditional on the version it returned. If anyone else wrote the
 * Lease since, that write fails (409) and the next read goes to the apiserver. A leader renews with one request a
 * second instead of two.
 */
final class ReleasableLeaseLock implements Lock {
    private static final Logger LOG = LoggerFactory.getLogger(ReleasableLeaseLock.class);
    private final LeaseLock lease;
    private final ApiClient client;
    /** The StatefulSet (in the Lease's namespace) that owns a Lease this process creates; null: none. */
    private final String ownerStatefulSet;
    private final CoordinationV1Api api;
    private final String namespace;
    private final String name;
    private volatile boolean released;
    /** What this process last wrote and the apiserver accepted; null once a write failed or before the first. */
    private volatile LeaderElectionRecord written;

    ReleasableLeaseLock(String namespace, String name, String identity, ApiClient client, String ownerStatefulSet) {
        this.lease = new LeaseLock(namespace, name, identity, client);
        this.client = client;
        this.ownerStatefulSet = ownerStatefulSet;
        this.api = new CoordinationV1Api(client);
        this.namespace = namespace;
        this.name = name;
    }

    @Override
    public LeaderElectionRecord get() throws ApiException {
        LeaderElectionRecord ours = written;
        return ours != null ? ours : lease.get();
    }

    @Override
    public boolean create(LeaderElectionRecord record) {
        boolean created = remember(record, !released && lease.create(record));
        if (created && ownerStatefulSet != null) {
            own();
        }
        return created;
    }

    /** Makes the StatefulSet the Lease's owner; a failure costs only the Lease's cleanup, so it is logged, not thrown. */
    private void own() {
        try {
            String uid = new AppsV1Api(client).readNamespacedStatefulSet(ownerStatefulSet, namespace).execute()
                    .getMetadata().getUid();
            String patch = "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\","
                    + "\"name\":\"" + ownerStatefulSet + "\",\"uid\":\"" + uid + "\"}]}}";
            PatchUtils.patch(V1Lease.class, () -> api.patchNamespacedLease(name, namespace, new V1Patch(patch))
                    .buildCall(null), V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, client);
            // LeaseLock renews by replacing the Lease it last read: read the owned one, or the owner would be undone.
            lease.get();
        } catch (ApiException e) {
            LOG.atWarn().addKeyValue("lease", namespace + "/" + name).addKeyValue("owner", ownerStatefulSet)
                    .addKeyValue("code", e.getCode()).log("the Lease is not owned by the StatefulSet; it outlives an uninstall");
        }
    }

    @Override
    public boolean update(LeaderElectionRecord record) {
        // LeaseLock writes the Lease it last read or wrote, so the write is conditional on that resourceVersion.
        return remember(record, !released && lease.update(record));
    }

    private boolean remember(LeaderElectionRecord record, boolean accepted) {
        written = accepted ? record : null;
        return accepted;
    }

    @Override
    public String identity() {
        return lease.identity();
    }

    @Override
    public String describe() {
        return lease.describe();
    }

    /**
     * Stops this process's writes, then deletes the Lease if its holder is still this process, on the condition that
     * it is the version read (a standby that took it in between keeps it). Returns whether it did. A renewal already
     * under way when the writes stopped can land between the read and the delete: the release then reads again (a
     * few times), rather than leave the Lease to expire.
     */
    boolean release() throws ApiException {
        released = true;
        written = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            V1Lease current;
            try {
                current = api.readNamespacedLease(name, namespace).execute();
            } catch (ApiException e) {
                if (e.getCode() == 404) {
                    return false;
                }
                throw e;
            }
            if (current.getSpec() == null || !identity().equals(current.getSpec().getHolderIdentity())) {
                return false;
            }
            try {
                api.deleteNamespacedLease(name, namespace).body(new V1DeleteOptions().preconditions(
                        new V1Preconditions().resourceVersion(current.getMetadata().getResourceVersion()))).execute();
                return true;
            } catch (ApiException e) {
                if (e.getCode() != 409 && e.getCode() != 404) {
                    throw e;
                }
            }
        }
        return false;
    }
}
