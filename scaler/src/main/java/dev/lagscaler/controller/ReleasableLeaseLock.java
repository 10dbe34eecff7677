package dev.lagscaler.controller;

import io.kubernetes.client.extended.leaderelection.LeaderElectionRecord;
import io.kubernetes.client.extended.leaderelection.Lock;
import io.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;

/**
 * client-java's Lease lock with a release, as client-go's ReleaseOnCancel: once released, this process's elector can
 * no longer renew or retake the Lease (its writes fail), and the Lease's holder is emptied at once, so a standby
 * takes over at its next retry instead of after the lease duration, and without waiting for the elector to stop.
 */
final class ReleasableLeaseLock implements Lock {
    private final LeaseLock lease;
    private volatile boolean released;

    ReleasableLeaseLock(String namespace, String name, String identity, ApiClient client) {
        this.lease = new LeaseLock(namespace, name, identity, client);
    }

    @Override
    public LeaderElectionRecord get() throws ApiException {
        return lease.get();
    }

    @Override
    public boolean create(LeaderElectionRecord record) {
        return !released && lease.create(record);
    }

    @Override
    public boolean update(LeaderElectionRecord record) {
        return !released && lease.update(record);
    }

    @Override
    public String identity() {
        return lease.identity();
    }

    @Override
    public String describe() {
        return lease.describe();
    }

    /** Stops this process's writes, then empties the holder if it is still this process. Returns whether it did. */
    boolean release() throws ApiException {
        released = true;
        LeaderElectionRecord current = lease.get();
        if (current == null || !identity().equals(current.getHolderIdentity())) {
            return false;
        }
        return lease.update(new LeaderElectionRecord(null, 1, null, null, current.getLeaderTransitions()));
    }
}
