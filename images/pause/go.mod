module panalysis.invalid/pause

go 1.22
