using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using OptimizationRuns.Gateway.Auth;
using OptimizationRuns.Gateway.OpenApi;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Apis;

/// <summary>Live progress as Server-Sent Events, straight from the run's grain.</summary>
public static class LiveApi
{
    public static RouteGroupBuilder MapLiveApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/optimization/runs/{runId:guid}").WithTags("Live").RequireAuthorization(Callers.ProjectPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/events", WatchRunAsync).WithName("WatchRun")
            .WithSummary("Server-Sent Events: progress, iteration, best_score and status, in order; resumes after Last-Event-ID")
            .ProducesEventStream(Events)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    // Each event's name and the record its data is: the run's grain publishes these, serialized as the API writes JSON.
    private static readonly IReadOnlyDictionary<string, Type> Events = new Dictionary<string, Type>
    {
        [RunEventKind.Progress.ToName()] = typeof(ProgressEvent),
        [RunEventKind.Iteration.ToName()] = typeof(IterationEvent),
        [RunEventKind.BestScore.ToName()] = typeof(BestScoreEvent),
        [RunEventKind.Status.ToName()] = typeof(StatusEvent),
    };

    /// <summary>
    /// Streams the run's events after <c>Last-Event-ID</c> (or <c>?after=</c>); the stream ends when the run has
    /// ended and every event was sent. Each event's id is its sequence number.
    /// </summary>
    public static async Task<ServerSentEventsResult<string>> WatchRunAsync(
        Guid runId, HttpRequest request, long? after, ClaimsPrincipal user, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var grain = cluster.Run(user, runId);
        _ = await grain.GetAsync(cancellationToken) ?? throw new RunNotFoundException(runId);
        var lastEventId = long.TryParse(request.Headers["Last-Event-ID"], out var header) ? header : after ?? 0;
        return TypedResults.ServerSentEvents(Stream(grain, lastEventId, request.HttpContext.Response, cancellationToken));
    }

    private static async IAsyncEnumerable<SseItem<string>> Stream(
        IRunGrain grain, long afterEventId, HttpResponse response, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        GatewayTelemetry.SseSubscribers.Add(1);
        try
        {
            // The headers go out now, not with the first event: a watcher (EventSource's open) knows it is connected
            // while a quiet run has nothing new to say.
            await response.Body.FlushAsync(cancellationToken);
            await foreach (var runEvent in grain.WatchAsync(afterEventId, cancellationToken).WithCancellation(cancellationToken))
            {
                yield return new SseItem<string>(runEvent.PayloadJson, runEvent.Kind.ToName()) { EventId = runEvent.Id.ToString() };
            }
        }
        finally
        {
            GatewayTelemetry.SseSubscribers.Add(-1);
        }
    }
}
