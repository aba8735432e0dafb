module example.com/gosample

go 1.22
