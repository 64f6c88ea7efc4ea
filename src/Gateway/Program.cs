using OptimizationRuns.Gateway;
using OptimizationRuns.Gateway.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddOptimizationRunsClient();
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapOpenApi();
app.MapHealthApi();

app.Run();

/// <summary>The gateway's entry point; public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
