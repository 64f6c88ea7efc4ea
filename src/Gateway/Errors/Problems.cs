using Microsoft.AspNetCore.Mvc;

namespace OptimizationRuns.Gateway.Errors;

/// <summary>
/// Writes RFC 9457 problem details from places that have no endpoint result to return, and gives every 400 one shape,
/// whoever refused the request (an endpoint's <c>ValidationProblem</c>, the JSON reader, the parameter binder, a grain):
/// the title <see cref="InvalidTitle"/> and <c>errors: {path: [messages]}</c>.
/// </summary>
public static class Problems
{
    /// <summary>The title of every 400.</summary>
    public const string InvalidTitle = "One or more fields are invalid.";

    /// <summary>For <c>AddProblemDetails(o => o.CustomizeProblemDetails = Problems.Customize)</c>.</summary>
    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Status != StatusCodes.Status400BadRequest)
        {
            return;
        }

        problem.Title = InvalidTitle;
        if (problem is not HttpValidationProblemDetails && !problem.Extensions.ContainsKey("errors"))
        {
            problem.Extensions["errors"] = new Dictionary<string, string[]> { ["body"] = [problem.Detail ?? InvalidTitle] };
        }
    }

    public static async Task WriteAsync(HttpContext context, int status, string title, string detail,
        IDictionary<string, string[]>? errors = null)
    {
        var problem = errors is null
            ? new ProblemDetails { Status = status, Title = title, Detail = detail }
            : new ValidationProblemDetails(errors) { Status = status, Title = title, Detail = detail };
        context.Response.StatusCode = status;
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await service.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }
}
