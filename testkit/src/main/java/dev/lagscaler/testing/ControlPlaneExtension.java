package dev.lagscaler.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/** Starts {@link LocalControlPlane} once per test JVM; JUnit stops it when the run ends. */
public final class ControlPlaneExtension implements BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ControlPlaneExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        controlPlane(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalControlPlane.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return controlPlane(context);
    }

    private static LocalControlPlane controlPlane(ExtensionContext context) {
        WithControlPlane annotation = context.getRequiredTestClass().getAnnotation(WithControlPlane.class);
        boolean node = annotation != null && annotation.node();
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(node ? "node-plane" : "plane", k -> new Holder(node), Holder.class).plane;
    }

    private static final class Holder implements AutoCloseable {
        final LocalControlPlane plane;

        Holder(boolean node) {
            try {
                plane = LocalControlPlane.start(LocalControlPlane.Options.temporary().withNode(node));
            } catch (java.io.IOException e) {
                throw new IllegalStateException("could not start the local control plane: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            plane.close();
        }
    }
}
