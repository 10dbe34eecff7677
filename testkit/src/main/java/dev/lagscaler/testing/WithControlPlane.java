package dev.lagscaler.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a test class the real control plane (a {@link LocalControlPlane} parameter), started once per test JVM
 * and shared by every class that asks for it. With {@code node = true} the class gets a control plane with a real
 * node ({@link LocalNode}: containerd, kubelet, kube-proxy, CoreDNS), also shared, started apart from the plain one.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Tag("kubernetes")
@ExtendWith(ControlPlaneExtension.class)
public @interface WithControlPlane {
    /** A real node joins the control plane: Pods run. Needs root (see {@code dev/node-binaries.sh}). */
    boolean node() default false;
}
