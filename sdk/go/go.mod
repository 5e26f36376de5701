module github.com/storekeep/storekeep/sdk/go

go 1.26
