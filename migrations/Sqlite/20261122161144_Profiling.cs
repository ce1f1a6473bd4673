using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Flare.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Profiling : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ProfileRuns",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    DeploymentId = table.Column<int>(type: "INTEGER", nullable: false),
                    Source = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    Settings = table.Column<string>(type: "TEXT", maxLength: 20000, nullable: false),
                    CellsTotal = table.Column<int>(type: "INTEGER", nullable: false),
                    CellsDone = table.Column<int>(type: "INTEGER", nullable: false),
                    SamplesRecorded = table.Column<int>(type: "INTEGER", nullable: false),
                    ErrorCount = table.Column<int>(type: "INTEGER", nullable: false),
                    CancelRequested = table.Column<bool>(type: "INTEGER", nullable: false),
                    Message = table.Column<string>(type: "TEXT", maxLength: 20000, nullable: true),
                    JobId = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    CreatedUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    StartedUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    FinishedUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    UpdatedUtc = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProfileRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ProfileRuns_Deployments_DeploymentId",
                        column: x => x.DeploymentId,
                        principalTable: "Deployments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ProfileSchedules",
                columns: table => new
                {
                    DeploymentId = table.Column<int>(type: "INTEGER", nullable: false),
                    Cron = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Settings = table.Column<string>(type: "TEXT", maxLength: 20000, nullable: false),
                    UpdatedUtc = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProfileSchedules", x => x.DeploymentId);
                    table.ForeignKey(
                        name: "FK_ProfileSchedules_Deployments_DeploymentId",
                        column: x => x.DeploymentId,
                        principalTable: "Deployments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ProfileCells",
                columns: table => new
                {
                    RunId = table.Column<int>(type: "INTEGER", nullable: false),
                    CellIndex = table.Column<int>(type: "INTEGER", nullable: false),
                    CompletedUtc = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProfileCells", x => new { x.RunId, x.CellIndex });
                    table.ForeignKey(
                        name: "FK_ProfileCells_ProfileRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "ProfileRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ProfileFits",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    DeploymentId = table.Column<int>(type: "INTEGER", nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    RunId = table.Column<int>(type: "INTEGER", nullable: true),
                    IsActive = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    TtftBaseMs = table.Column<double>(type: "REAL", nullable: false),
                    TtftPerInputTokenMs = table.Column<double>(type: "REAL", nullable: false),
                    TtftPerQueuedInputTokenMs = table.Column<double>(type: "REAL", nullable: false),
                    TtftPerQueuedRequestMs = table.Column<double>(type: "REAL", nullable: false),
                    TpotBaseMs = table.Column<double>(type: "REAL", nullable: false),
                    TpotPerRequestMs = table.Column<double>(type: "REAL", nullable: false),
                    TpotPerContextTokenMs = table.Column<double>(type: "REAL", nullable: false),
                    Quality = table.Column<string>(type: "TEXT", maxLength: 10000, nullable: false),
                    TtftCvMape = table.Column<double>(type: "REAL", nullable: true),
                    TpotCvMape = table.Column<double>(type: "REAL", nullable: true),
                    E2eCvMape = table.Column<double>(type: "REAL", nullable: true),
                    IsFlagged = table.Column<bool>(type: "INTEGER", nullable: false),
                    SamplesUsed = table.Column<int>(type: "INTEGER", nullable: false),
                    ErrorSamples = table.Column<int>(type: "INTEGER", nullable: false),
                    MaxConcurrency = table.Column<double>(type: "REAL", nullable: false),
                    ReferenceInputTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    ReferenceOutputTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    SaturationRequestsPerSecond = table.Column<double>(type: "REAL", nullable: true),
                    SaturationOutputTokensPerSecond = table.Column<double>(type: "REAL", nullable: true),
                    CostPerRequestUsd = table.Column<double>(type: "REAL", nullable: true),
                    CostBasis = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProfileFits", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ProfileFits_Deployments_DeploymentId",
                        column: x => x.DeploymentId,
                        principalTable: "Deployments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_ProfileFits_ProfileRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "ProfileRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "ProfileSamples",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RunId = table.Column<int>(type: "INTEGER", nullable: false),
                    CellIndex = table.Column<int>(type: "INTEGER", nullable: false),
                    InputTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    OutputTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    Concurrency = table.Column<double>(type: "REAL", nullable: false),
                    RequestRatePerSecond = table.Column<double>(type: "REAL", nullable: true),
                    TtftMs = table.Column<double>(type: "REAL", nullable: true),
                    TpotMs = table.Column<double>(type: "REAL", nullable: true),
                    E2eMs = table.Column<double>(type: "REAL", nullable: true),
                    ItlP50Ms = table.Column<double>(type: "REAL", nullable: true),
                    ItlP95Ms = table.Column<double>(type: "REAL", nullable: true),
                    ItlMaxMs = table.Column<double>(type: "REAL", nullable: true),
                    IsError = table.Column<bool>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    StartedUtc = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProfileSamples", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ProfileSamples_ProfileRuns_RunId",
                        column: x => x.RunId,
                        principalTable: "ProfileRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ProfileFits_DeploymentId_Version",
                table: "ProfileFits",
                columns: new[] { "DeploymentId", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ProfileFits_RunId",
                table: "ProfileFits",
                column: "RunId");

            migrationBuilder.CreateIndex(
                name: "IX_ProfileRuns_DeploymentId_Status",
                table: "ProfileRuns",
                columns: new[] { "DeploymentId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_ProfileSamples_RunId_CellIndex",
                table: "ProfileSamples",
                columns: new[] { "RunId", "CellIndex" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ProfileCells");

            migrationBuilder.DropTable(
                name: "ProfileFits");

            migrationBuilder.DropTable(
                name: "ProfileSamples");

            migrationBuilder.DropTable(
                name: "ProfileSchedules");

            migrationBuilder.DropTable(
                name: "ProfileRuns");
        }
    }
}
