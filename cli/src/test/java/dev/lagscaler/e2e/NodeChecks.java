package dev.lagscaler.e2e;

import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.LocalControlPlane;
import java.io.IOException;
import java.time.Duration;

/** Waiting on the real node's cluster, with what a failure needs to be read: every pod and the latest Events. */
final class NodeChecks {
    interface Check {
        boolean done() throws Exception;
    }

    private NodeChecks() {
    }

    /** Waits for {@code check} (an exception counts as not yet); on a timeout fails with the cluster's pods, Jobs, Events. */
    static void await(LocalControlPlane plane, String what, Duration timeout, Check check) throws Exception {
        try {
            ChildProcess.await(what, timeout, Duration.ofMillis(500), () -> {
                try {
                    return check.done();
                } catch (Exception e) {
                    return false;
                }
            });
        } catch (IOException e) {
            throw new AssertionError(e.getMessage() + "\n" + plane.kubectl("get", "pods,jobs", "-A", "-o", "wide")
                    + plane.kubectl("get", "events", "-A", "--sort-by=.lastTimestamp"), e);
        }
    }
}
