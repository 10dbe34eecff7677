package dev.lagscaler.controller;

import io.kubernetes.client.extended.leaderelection.LeaderElectionRecord;
import io.kubernetes.client.extended.leaderelection.Lock;
import io.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;

/**
 * client-java's Lease lock with two things client-go has. A release, as client-go's ReleaseOnCancel: once released,
 * this process's elector can no longer renew or retake the Lease (its writes fail), and the Lease's holder is emptied
 * at once, so a standby takes over at its next retry instead of after the lease duration, and without waiting for
 * the elector to stop. And an optimistic renewal, as client-go's leader elector does: while this process's last write
 * of the Lease stands, the elector's read before each renewal is answered with that write instead of a GET, and the
 * renewal is a write conditional on the version it returned. If anyone else wrote the Lease since, that write fails
 * (409) and the next read goes to the apiserver. A leader renews with one request a second instead of two.
 */
final class ReleasableLeaseLock implements Lock {
    private final LeaseLock lease;
    private volatile boolean released;
    /** What this process last wrote and the apiserver accepted; null once a write failed or before the first. */
    private volatile LeaderElectionRecord written;

    ReleasableLeaseLock(String namespace, String name, String identity, ApiClient client) {
        this.lease = new LeaseLock(namespace, name, identity, client);
    }

    @Override
    public LeaderElectionRecord get() throws ApiException {
        LeaderElectionRecord ours = written;
        return ours != null ? ours : lease.get();
    }

    @Override
    public boolean create(LeaderElectionRecord record) {
        return remember(record, !released && lease.create(record));
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
     * Stops this process's writes, then empties the holder if it is still this process. Returns whether it did. A
     * renewal already under way when the writes stopped can land between the read and the release's write: the
     * release then reads again (a few times), rather than leave the Lease to expire.
     */
    boolean release() throws ApiException {
        released = true;
        written = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            LeaderElectionRecord current = lease.get();
            if (current == null || !identity().equals(current.getHolderIdentity())) {
                return false;
            }
            if (lease.update(new LeaderElectionRecord(null, 1, null, null, current.getLeaderTransitions()))) {
                return true;
            }
        }
        return false;
    }
}
