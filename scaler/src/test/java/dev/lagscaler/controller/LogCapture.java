package dev.lagscaler.controller;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** Every log event of this JVM, message, fields and error, appended to a buffer while capturing (for secret checks). */
final class LogCapture {
    private LogCapture() {
    }

    static Object start(StringBuffer into) {
        AbstractAppender appender = new AbstractAppender("capture-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                into.append(event.getLevel()).append(' ').append(event.getLoggerName()).append(' ')
                        .append(event.getMessage().getFormattedMessage()).append(' ')
                        .append(event.getContextData().toMap());
                if (event.getThrown() != null) {
                    into.append(' ').append(event.getThrown());
                }
                into.append('\n');
            }
        };
        appender.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().addAppender(appender, null, null);
        context.updateLoggers();
        return appender;
    }

    static void stop(Object capture) {
        AbstractAppender appender = (AbstractAppender) capture;
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(appender.getName());
        context.updateLoggers();
        appender.stop();
    }
}
