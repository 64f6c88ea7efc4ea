using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http.HttpResults;

namespace OptimizationRuns.Gateway.Dashboard.Components;

/// <summary>
/// A signed-in page: the request, its caller and the cluster. Pages call the REST API's own handlers (so a page
/// shows exactly what the API answers) and render; they compute nothing of their own.
/// </summary>
public abstract class DashboardPage : ComponentBase
{
    [CascadingParameter] public HttpContext HttpContext { get; set; } = null!;

    [Inject] public IClusterClient Cluster { get; set; } = null!;

    protected ClaimsPrincipal User => HttpContext.User;

    protected CancellationToken Aborted => HttpContext.RequestAborted;

    /// <summary>What went wrong with the query string, by parameter, as the API would answer it with 400.</summary>
    protected IDictionary<string, string[]>? Errors { get; private set; }

    /// <summary>The value of an API handler's result; on a validation problem, null with <see cref="Errors"/> set (and 400).</summary>
    protected T? ValueOf<T>(IResult result) where T : class
    {
        switch (result)
        {
            case Ok<T> ok:
                return ok.Value;
            case ValidationProblem problem:
                Errors = problem.ProblemDetails.Errors;
                HttpContext.Response.StatusCode = StatusCodes.Status400BadRequest;
                return null;
            default:
                throw new InvalidOperationException($"Unexpected result {result.GetType().Name}.");
        }
    }

    [Inject] public NavigationManager Navigation { get; set; } = null!;

    /// <summary>Answers 404 with the not-found page (the same page for "deleted" and "another project's").</summary>
    protected void AnswerNotFound() => Navigation.NotFound();
}
