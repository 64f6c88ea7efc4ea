using OptimizationRuns.Silo;
using OptimizationRuns.Silo.Migrations;

var builder = Host.CreateApplicationBuilder(args);

if (args.FirstOrDefault() == "migrate")
{
    return await MigrateCommand.RunAsync(args[1..], builder.Configuration, CancellationToken.None);
}

if (builder.Configuration.GetValue("Database:MigrateOnStart", false))
{
    builder.Services.AddHostedService<MigrateOnStart>();
}

builder.AddSiloTelemetry();
builder.UseOrleans(silo => silo
    .AddOptimizationRunsClustering(builder.Configuration)
    .AddOptimizationRuns(builder.Configuration));

await builder.Build().RunAsync();
return 0;
