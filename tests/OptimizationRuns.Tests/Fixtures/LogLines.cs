using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OptimizationRuns.Tests.Fixtures;

/// <summary>Every formatted log line, as a log sink would receive it.</summary>
public sealed class LogLines : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Text)> _lines = new();

    /// <summary>A logger of one category that writes here.</summary>
    public ILogger Logger => CreateLogger("test");

    public IEnumerable<string> All => _lines.Select(l => l.Text);

    public IEnumerable<string> Warnings => _lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Text);

    public ILogger CreateLogger(string categoryName) => new Sink(_lines);

    public void Dispose()
    {
    }

    private sealed class Sink(ConcurrentQueue<(LogLevel, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((logLevel, formatter(state, exception)));
    }
}
