-- Golden dataset for the 13 aggregates: small enough to reason about by hand, shaped to
-- hit the edges of every definition in schema/README.md. Applied on top of
-- schema/source_sqlite.sql by tests/golden/check_sql.py; tests/golden/golden.py computes
-- the expected results from these rows in plain Python.
--
-- Reference points (as_of = 2025-03-31, params of schema/aggregates.yaml):
--   window_days 90    -> window 2025-01-01 .. 2025-03-31
--   active_days 30    -> active window 2025-03-02 .. 2025-03-31
--   dormant_days 90   -> no order 2025-01-01 .. 2025-03-31 means dormant on as_of
--   history_days 365  -> daily series 2024-04-01 .. 2025-03-31
--   coverage_start 2024-04-10 -> user_counts' active_members NULL through 2024-05-08
--                     (2024-05-09 = coverage start + 29 is the first full 30-day window),
--                     its dormant split NULL through 2024-07-07 (+ 89); new_members'
--                     ordered_members NULL for joins through 2024-04-09
--   repurchase maturity: 30 days for first orders up to 2025-03-01, 60 up to 2025-01-30,
--                     90 up to 2024-12-31
--                     cohorts hold members who joined on or after coverage start only
--   months wholly covered: 2024-05 on (user_segments, heavy_users; 2024-03 and the
--                     straddling 2024-04 are left out); cycles count gaps from 2024-04-10
--   check_sql.py also moves coverage_start (COVERAGE_VARIANTS) to reach the window NULLs
-- Part 1 (members 1-24, orders 1-275) is ordinary traffic, generated once with a fixed
-- seed and pasted here; part 2 (members 101-, orders 1001-) was written by hand, one
-- edge case per member, each commented.
INSERT INTO meta VALUES ('as_of', '2025-03-31'), ('seed', '0'), ('brand', 'golden'),
                        ('coverage_start', '2024-04-10');

INSERT INTO stores VALUES (1, 'Gangnam', 'Seoul');
INSERT INTO stores VALUES (2, 'Hongdae', 'Seoul');
INSERT INTO stores VALUES (3, 'Suwon', 'Gyeonggi');
INSERT INTO stores VALUES (4, 'Pangyo', 'Gyeonggi');
INSERT INTO stores VALUES (5, 'Haeundae', 'Busan');
INSERT INTO stores VALUES (6, 'Jeju City', 'Jeju');
INSERT INTO stores VALUES (7, 'Dongseongno', 'Daegu');

-- product_id, name, category, is_new, is_signature, launched_at
INSERT INTO products VALUES (1, 'Americano', 'Coffee', 0, 0, '2020-01-01');
INSERT INTO products VALUES (2, 'Cafe Latte', 'Coffee', 0, 0, '2020-01-01');
INSERT INTO products VALUES (3, 'Vanilla Latte', 'Coffee', 0, 0, '2020-01-01');
INSERT INTO products VALUES (4, 'Signature Dolce Latte', 'Coffee', 0, 1, '2022-03-01');
INSERT INTO products VALUES (5, 'Green Tea Latte', 'Non-coffee', 0, 0, '2020-01-01');
INSERT INTO products VALUES (6, 'Yuzu Ade', 'Non-coffee', 0, 0, '2020-01-01');
INSERT INTO products VALUES (7, 'Earl Grey', 'Tea', 0, 0, '2020-01-01');
INSERT INTO products VALUES (8, 'Cheesecake', 'Dessert', 0, 0, '2020-01-01');
INSERT INTO products VALUES (9, 'Salt Bread', 'Bakery', 0, 0, '2020-01-01');
INSERT INTO products VALUES (10, 'Tumbler', 'MD', 0, 0, '2020-01-01');
-- launched mid-window: new, and new + signature
INSERT INTO products VALUES (11, 'Black Sesame Latte', 'Non-coffee', 1, 0, '2025-02-15');
INSERT INTO products VALUES (12, 'Hallabong Cream Latte', 'Coffee', 1, 1, '2025-01-10');
-- launched on as_of itself; bought once (member 113)
INSERT INTO products VALUES (13, 'Strawberry Croissant', 'Bakery', 1, 0, '2025-03-31');
-- never sold: must not appear anywhere
INSERT INTO products VALUES (14, 'Drip Bag Set', 'MD', 0, 0, '2020-01-01');

-- ---------------------------------------------------------------- part 1: ordinary traffic
INSERT INTO members VALUES (1, '2024-06-29 17:26:21', 2006, 'F', 'Busan');
INSERT INTO members VALUES (2, '2024-11-30 02:34:16', 2009, 'F', 'Busan');
INSERT INTO members VALUES (3, '2024-07-21 19:29:06', 1970, 'M', 'Busan');
INSERT INTO members VALUES (4, '2024-03-06 13:20:45', 1982, 'F', 'Gyeonggi');
INSERT INTO members VALUES (5, '2023-07-31 20:29:30', 1985, 'F', 'Gyeonggi');
INSERT INTO members VALUES (6, '2024-02-03 06:28:02', 1958, 'F', 'Gyeonggi');
INSERT INTO members VALUES (7, '2023-11-27 11:47:57', NULL, 'M', 'Busan');
INSERT INTO members VALUES (8, '2023-09-02 18:00:46', 1958, 'M', 'Incheon');
INSERT INTO members VALUES (9, '2023-06-25 00:47:19', 1951, 'M', 'Busan');
INSERT INTO members VALUES (10, '2024-08-14 17:05:35', 1964, 'F', 'Gyeonggi');
INSERT INTO members VALUES (11, '2024-09-17 22:10:07', 2000, 'U', 'Gyeonggi');
INSERT INTO members VALUES (12, '2023-10-09 18:22:25', 1968, 'F', 'Gyeonggi');
INSERT INTO members VALUES (13, '2024-04-27 22:11:40', 1963, 'M', 'Busan');
INSERT INTO members VALUES (14, '2023-07-11 22:06:35', 1991, 'M', 'Gyeonggi');
INSERT INTO members VALUES (15, '2024-02-24 14:02:08', 1978, 'M', 'Gyeonggi');
INSERT INTO members VALUES (16, '2023-11-28 00:56:04', 2009, 'U', 'Seoul');
INSERT INTO members VALUES (17, '2023-09-26 12:45:17', 1996, 'M', 'Seoul');
INSERT INTO members VALUES (18, '2024-10-22 07:59:48', 1963, 'U', 'Incheon');
INSERT INTO members VALUES (19, '2024-08-12 16:21:08', NULL, 'U', 'Gyeonggi');
INSERT INTO members VALUES (20, '2024-09-12 19:40:39', 1970, 'F', 'Busan');
INSERT INTO members VALUES (21, '2023-08-19 11:42:02', 1988, 'U', 'Busan');
INSERT INTO members VALUES (22, '2024-11-06 18:51:49', 1999, 'U', 'Busan');
INSERT INTO members VALUES (23, '2024-05-14 03:36:20', 1964, 'U', 'Seoul');
INSERT INTO members VALUES (24, '2025-01-24 16:22:34', 1980, 'F', 'Gyeonggi');
INSERT INTO orders VALUES (1, 1, 5, '2024-10-01 13:37:28');
INSERT INTO orders VALUES (2, 15, 3, '2024-10-01 15:18:21');
INSERT INTO orders VALUES (3, 1, 5, '2024-10-02 08:53:49');
INSERT INTO orders VALUES (4, 1, 5, '2024-10-03 08:56:24');
INSERT INTO orders VALUES (5, 10, 3, '2024-10-03 15:44:56');
INSERT INTO orders VALUES (6, 3, 5, '2024-10-04 13:14:35');
INSERT INTO orders VALUES (7, 1, 5, '2024-10-04 13:42:02');
INSERT INTO orders VALUES (8, 21, 5, '2024-10-04 17:12:14');
INSERT INTO orders VALUES (9, 10, 3, '2024-10-05 15:02:31');
INSERT INTO orders VALUES (10, 4, 3, '2024-10-06 07:55:49');
INSERT INTO orders VALUES (11, 11, 3, '2024-10-06 13:51:15');
INSERT INTO orders VALUES (12, 14, 3, '2024-10-06 13:59:01');
INSERT INTO orders VALUES (13, 15, 4, '2024-10-07 15:31:00');
INSERT INTO orders VALUES (14, 10, 3, '2024-10-09 09:37:40');
INSERT INTO orders VALUES (15, 15, 4, '2024-10-09 12:11:51');
INSERT INTO orders VALUES (16, 15, 3, '2024-10-10 07:19:34');
INSERT INTO orders VALUES (17, 15, 4, '2024-10-10 08:20:12');
INSERT INTO orders VALUES (18, 10, 4, '2024-10-10 12:56:12');
INSERT INTO orders VALUES (19, 12, 4, '2024-10-10 13:16:00');
INSERT INTO orders VALUES (20, 10, 4, '2024-10-11 12:27:14');
INSERT INTO orders VALUES (21, 10, 3, '2024-10-13 15:23:41');
INSERT INTO orders VALUES (22, 15, 4, '2024-10-15 09:04:05');
INSERT INTO orders VALUES (23, 4, 3, '2024-10-15 09:52:54');
INSERT INTO orders VALUES (24, 19, 3, '2024-10-15 12:47:10');
INSERT INTO orders VALUES (25, 1, 5, '2024-10-15 21:50:28');
INSERT INTO orders VALUES (26, 4, 3, '2024-10-16 17:23:43');
INSERT INTO orders VALUES (27, 19, 3, '2024-10-17 08:16:32');
INSERT INTO orders VALUES (28, 1, 5, '2024-10-17 08:58:56');
INSERT INTO orders VALUES (29, 5, 3, '2024-10-17 10:13:50');
INSERT INTO orders VALUES (30, 12, 4, '2024-10-17 12:15:27');
INSERT INTO orders VALUES (31, 14, 4, '2024-10-21 21:45:30');
INSERT INTO orders VALUES (32, 13, 5, '2024-10-22 09:10:17');
INSERT INTO orders VALUES (33, 1, 5, '2024-10-22 10:45:32');
INSERT INTO orders VALUES (34, 12, 4, '2024-10-22 15:26:30');
INSERT INTO orders VALUES (35, 15, 4, '2024-10-24 12:48:54');
INSERT INTO orders VALUES (36, 3, 5, '2024-10-25 12:09:25');
INSERT INTO orders VALUES (37, 18, 3, '2024-10-27 08:50:45');
INSERT INTO orders VALUES (38, 15, 4, '2024-10-28 12:34:38');
INSERT INTO orders VALUES (39, 3, 5, '2024-10-28 19:05:04');
INSERT INTO orders VALUES (40, 10, 3, '2024-10-29 13:09:17');
INSERT INTO orders VALUES (41, 7, 5, '2024-10-31 12:25:03');
INSERT INTO orders VALUES (42, 4, 4, '2024-11-01 15:57:43');
INSERT INTO orders VALUES (43, 21, 5, '2024-11-01 17:43:24');
INSERT INTO orders VALUES (44, 15, 3, '2024-11-03 15:28:20');
INSERT INTO orders VALUES (45, 1, 5, '2024-11-04 15:13:18');
INSERT INTO orders VALUES (46, 1, 5, '2024-11-05 13:00:57');
INSERT INTO orders VALUES (47, 1, 5, '2024-11-05 13:50:20');
INSERT INTO orders VALUES (48, 1, 5, '2024-11-06 07:15:11');
INSERT INTO orders VALUES (49, 22, 5, '2024-11-07 12:38:05');
INSERT INTO orders VALUES (50, 18, 3, '2024-11-07 13:08:55');
INSERT INTO orders VALUES (51, 1, 5, '2024-11-07 13:40:26');
INSERT INTO orders VALUES (52, 13, 5, '2024-11-09 12:45:44');
INSERT INTO orders VALUES (53, 1, 5, '2024-11-11 17:17:15');
INSERT INTO orders VALUES (54, 15, 3, '2024-11-12 12:48:37');
INSERT INTO orders VALUES (55, 1, 5, '2024-11-13 10:30:40');
INSERT INTO orders VALUES (56, 12, 4, '2024-11-14 17:15:11');
INSERT INTO orders VALUES (57, 18, 1, '2024-11-15 08:03:38');
INSERT INTO orders VALUES (58, 1, 5, '2024-11-15 09:27:49');
INSERT INTO orders VALUES (59, 22, 5, '2024-11-15 10:20:55');
INSERT INTO orders VALUES (60, 21, 5, '2024-11-15 13:08:20');
INSERT INTO orders VALUES (61, 1, 5, '2024-11-16 09:59:02');
INSERT INTO orders VALUES (62, 4, 3, '2024-11-16 15:22:29');
INSERT INTO orders VALUES (63, 1, 5, '2024-11-18 10:07:45');
INSERT INTO orders VALUES (64, 10, 4, '2024-11-18 13:03:59');
INSERT INTO orders VALUES (65, 18, 3, '2024-11-19 08:53:05');
INSERT INTO orders VALUES (66, 19, 3, '2024-11-19 09:37:34');
INSERT INTO orders VALUES (67, 14, 3, '2024-11-20 08:34:45');
INSERT INTO orders VALUES (68, 10, 3, '2024-11-20 08:55:03');
INSERT INTO orders VALUES (69, 1, 5, '2024-11-21 08:20:33');
INSERT INTO orders VALUES (70, 1, 5, '2024-11-21 13:44:13');
INSERT INTO orders VALUES (71, 21, 5, '2024-11-22 12:30:26');
INSERT INTO orders VALUES (72, 1, 5, '2024-11-22 13:34:10');
INSERT INTO orders VALUES (73, 3, 5, '2024-11-23 07:39:46');
INSERT INTO orders VALUES (74, 3, 5, '2024-11-23 09:30:31');
INSERT INTO orders VALUES (75, 22, 5, '2024-11-23 17:09:10');
INSERT INTO orders VALUES (76, 10, 4, '2024-11-24 08:52:02');
INSERT INTO orders VALUES (77, 1, 5, '2024-11-26 09:25:52');
INSERT INTO orders VALUES (78, 5, 3, '2024-11-26 10:03:25');
INSERT INTO orders VALUES (79, 13, 5, '2024-11-26 13:19:19');
INSERT INTO orders VALUES (80, 1, 5, '2024-11-27 10:18:44');
INSERT INTO orders VALUES (81, 4, 4, '2024-11-27 13:32:45');
INSERT INTO orders VALUES (82, 1, 5, '2024-11-29 07:56:34');
INSERT INTO orders VALUES (83, 18, 1, '2024-11-29 09:50:47');
INSERT INTO orders VALUES (84, 10, 4, '2024-11-30 09:14:13');
INSERT INTO orders VALUES (85, 22, 5, '2024-11-30 17:03:06');
INSERT INTO orders VALUES (86, 9, 5, '2024-12-01 08:24:01');
INSERT INTO orders VALUES (87, 1, 5, '2024-12-01 12:16:38');
INSERT INTO orders VALUES (88, 19, 4, '2024-12-01 19:29:21');
INSERT INTO orders VALUES (89, 2, 5, '2024-12-02 07:49:40');
INSERT INTO orders VALUES (90, 18, 1, '2024-12-03 09:05:40');
INSERT INTO orders VALUES (91, 14, 4, '2024-12-04 12:34:34');
INSERT INTO orders VALUES (92, 3, 5, '2024-12-04 21:19:08');
INSERT INTO orders VALUES (93, 9, 5, '2024-12-04 21:40:51');
INSERT INTO orders VALUES (94, 18, 1, '2024-12-05 08:55:22');
INSERT INTO orders VALUES (95, 10, 4, '2024-12-06 09:04:55');
INSERT INTO orders VALUES (96, 18, 3, '2024-12-06 12:10:21');
INSERT INTO orders VALUES (97, 5, 3, '2024-12-08 08:22:15');
INSERT INTO orders VALUES (98, 2, 5, '2024-12-08 09:17:10');
INSERT INTO orders VALUES (99, 12, 3, '2024-12-10 08:19:49');
INSERT INTO orders VALUES (100, 18, 3, '2024-12-10 08:22:50');
INSERT INTO orders VALUES (101, 1, 5, '2024-12-10 12:05:08');
INSERT INTO orders VALUES (102, 4, 4, '2024-12-12 08:31:24');
INSERT INTO orders VALUES (103, 22, 5, '2024-12-12 13:02:24');
INSERT INTO orders VALUES (104, 1, 5, '2024-12-14 13:52:52');
INSERT INTO orders VALUES (105, 1, 5, '2024-12-14 13:57:04');
INSERT INTO orders VALUES (106, 12, 4, '2024-12-16 09:02:03');
INSERT INTO orders VALUES (107, 22, 5, '2024-12-16 10:49:35');
INSERT INTO orders VALUES (108, 21, 5, '2024-12-16 15:53:56');
INSERT INTO orders VALUES (109, 1, 5, '2024-12-18 12:29:37');
INSERT INTO orders VALUES (110, 19, 4, '2024-12-19 09:37:57');
INSERT INTO orders VALUES (111, 15, 3, '2024-12-20 17:40:02');
INSERT INTO orders VALUES (112, 1, 5, '2024-12-21 07:41:04');
INSERT INTO orders VALUES (113, 1, 5, '2024-12-21 10:07:21');
INSERT INTO orders VALUES (114, 20, 5, '2024-12-21 12:45:51');
INSERT INTO orders VALUES (115, 12, 4, '2024-12-21 19:23:22');
INSERT INTO orders VALUES (116, 1, 5, '2024-12-22 12:48:35');
INSERT INTO orders VALUES (117, 11, 3, '2024-12-23 10:49:41');
INSERT INTO orders VALUES (118, 14, 4, '2024-12-23 12:39:34');
INSERT INTO orders VALUES (119, 19, 4, '2024-12-23 12:48:59');
INSERT INTO orders VALUES (120, 1, 5, '2024-12-25 08:04:41');
INSERT INTO orders VALUES (121, 3, 5, '2024-12-25 12:49:04');
INSERT INTO orders VALUES (122, 4, 3, '2024-12-25 19:29:38');
INSERT INTO orders VALUES (123, 1, 5, '2024-12-26 09:02:19');
INSERT INTO orders VALUES (124, 6, 3, '2024-12-26 13:15:15');
INSERT INTO orders VALUES (125, 9, 5, '2024-12-27 07:01:42');
INSERT INTO orders VALUES (126, 1, 5, '2024-12-27 08:31:49');
INSERT INTO orders VALUES (127, 7, 5, '2024-12-27 08:51:52');
INSERT INTO orders VALUES (128, 10, 4, '2024-12-27 10:27:56');
INSERT INTO orders VALUES (129, 15, 3, '2024-12-27 17:08:07');
INSERT INTO orders VALUES (130, 19, 4, '2024-12-28 08:34:52');
INSERT INTO orders VALUES (131, 1, 5, '2024-12-28 12:14:27');
INSERT INTO orders VALUES (132, 19, 3, '2024-12-28 19:25:57');
INSERT INTO orders VALUES (133, 1, 5, '2024-12-29 12:54:01');
INSERT INTO orders VALUES (134, 6, 3, '2025-01-01 09:06:21');
INSERT INTO orders VALUES (135, 1, 5, '2025-01-01 21:17:20');
INSERT INTO orders VALUES (136, 4, 3, '2025-01-02 08:56:57');
INSERT INTO orders VALUES (137, 3, 5, '2025-01-02 09:40:31');
INSERT INTO orders VALUES (138, 10, 3, '2025-01-03 09:43:52');
INSERT INTO orders VALUES (139, 1, 5, '2025-01-03 15:55:18');
INSERT INTO orders VALUES (140, 1, 5, '2025-01-04 12:19:32');
INSERT INTO orders VALUES (141, 19, 4, '2025-01-04 19:15:17');
INSERT INTO orders VALUES (142, 3, 5, '2025-01-05 12:26:05');
INSERT INTO orders VALUES (143, 4, 4, '2025-01-06 09:35:33');
INSERT INTO orders VALUES (144, 15, 4, '2025-01-09 07:00:28');
INSERT INTO orders VALUES (145, 1, 5, '2025-01-09 17:12:06');
INSERT INTO orders VALUES (146, 15, 4, '2025-01-10 08:55:16');
INSERT INTO orders VALUES (147, 10, 3, '2025-01-10 12:58:39');
INSERT INTO orders VALUES (148, 21, 5, '2025-01-10 13:49:32');
INSERT INTO orders VALUES (149, 1, 5, '2025-01-12 08:39:46');
INSERT INTO orders VALUES (150, 1, 5, '2025-01-12 12:34:51');
INSERT INTO orders VALUES (151, 4, 3, '2025-01-12 15:15:09');
INSERT INTO orders VALUES (152, 15, 4, '2025-01-13 08:32:30');
INSERT INTO orders VALUES (153, 10, 4, '2025-01-13 10:30:30');
INSERT INTO orders VALUES (154, 6, 3, '2025-01-14 21:37:23');
INSERT INTO orders VALUES (155, 1, 5, '2025-01-15 12:41:11');
INSERT INTO orders VALUES (156, 14, 4, '2025-01-15 15:38:58');
INSERT INTO orders VALUES (157, 2, 5, '2025-01-16 08:54:07');
INSERT INTO orders VALUES (158, 1, 5, '2025-01-17 09:53:12');
INSERT INTO orders VALUES (159, 19, 3, '2025-01-17 13:42:41');
INSERT INTO orders VALUES (160, 1, 5, '2025-01-18 09:15:08');
INSERT INTO orders VALUES (161, 18, 3, '2025-01-19 07:33:09');
INSERT INTO orders VALUES (162, 19, 3, '2025-01-19 08:03:20');
INSERT INTO orders VALUES (163, 1, 5, '2025-01-19 09:00:54');
INSERT INTO orders VALUES (164, 3, 5, '2025-01-19 13:18:54');
INSERT INTO orders VALUES (165, 10, 3, '2025-01-21 09:47:27');
INSERT INTO orders VALUES (166, 18, 3, '2025-01-21 15:10:26');
INSERT INTO orders VALUES (167, 7, 5, '2025-01-22 07:43:24');
INSERT INTO orders VALUES (168, 14, 4, '2025-01-22 09:05:19');
INSERT INTO orders VALUES (169, 4, 3, '2025-01-22 09:41:46');
INSERT INTO orders VALUES (170, 1, 5, '2025-01-22 17:35:40');
INSERT INTO orders VALUES (171, 14, 3, '2025-01-23 08:20:32');
INSERT INTO orders VALUES (172, 18, 3, '2025-01-23 08:29:36');
INSERT INTO orders VALUES (173, 18, 3, '2025-01-23 13:10:48');
INSERT INTO orders VALUES (174, 15, 3, '2025-01-25 08:44:58');
INSERT INTO orders VALUES (175, 7, 5, '2025-01-26 07:05:36');
INSERT INTO orders VALUES (176, 2, 5, '2025-01-26 08:19:55');
INSERT INTO orders VALUES (177, 2, 5, '2025-01-27 12:43:16');
INSERT INTO orders VALUES (178, 17, 2, '2025-01-28 15:28:44');
INSERT INTO orders VALUES (179, 17, 1, '2025-01-29 10:20:45');
INSERT INTO orders VALUES (180, 3, 5, '2025-01-29 13:44:53');
INSERT INTO orders VALUES (181, 1, 5, '2025-01-31 08:25:40');
INSERT INTO orders VALUES (182, 21, 5, '2025-01-31 08:44:38');
INSERT INTO orders VALUES (183, 16, 2, '2025-01-31 12:54:57');
INSERT INTO orders VALUES (184, 1, 5, '2025-01-31 13:12:59');
INSERT INTO orders VALUES (185, 2, 5, '2025-01-31 13:20:54');
INSERT INTO orders VALUES (186, 1, 5, '2025-02-01 12:37:26');
INSERT INTO orders VALUES (187, 19, 3, '2025-02-02 13:31:31');
INSERT INTO orders VALUES (188, 2, 5, '2025-02-02 17:04:10');
INSERT INTO orders VALUES (189, 8, 1, '2025-02-03 08:17:35');
INSERT INTO orders VALUES (190, 6, 4, '2025-02-03 13:44:23');
INSERT INTO orders VALUES (191, 14, 3, '2025-02-05 12:03:46');
INSERT INTO orders VALUES (192, 6, 3, '2025-02-05 13:39:46');
INSERT INTO orders VALUES (193, 1, 5, '2025-02-05 19:52:09');
INSERT INTO orders VALUES (194, 22, 5, '2025-02-06 19:35:39');
INSERT INTO orders VALUES (195, 1, 5, '2025-02-07 08:27:11');
INSERT INTO orders VALUES (196, 6, 3, '2025-02-08 07:01:28');
INSERT INTO orders VALUES (197, 10, 3, '2025-02-08 09:42:53');
INSERT INTO orders VALUES (198, 5, 3, '2025-02-08 13:21:04');
INSERT INTO orders VALUES (199, 3, 5, '2025-02-09 07:58:37');
INSERT INTO orders VALUES (200, 1, 5, '2025-02-09 09:41:47');
INSERT INTO orders VALUES (201, 18, 3, '2025-02-09 13:21:11');
INSERT INTO orders VALUES (202, 4, 4, '2025-02-10 13:07:25');
INSERT INTO orders VALUES (203, 3, 5, '2025-02-11 13:39:43');
INSERT INTO orders VALUES (204, 15, 4, '2025-02-12 08:29:58');
INSERT INTO orders VALUES (205, 13, 5, '2025-02-12 13:01:36');
INSERT INTO orders VALUES (206, 1, 5, '2025-02-13 07:02:19');
INSERT INTO orders VALUES (207, 14, 3, '2025-02-13 10:14:04');
INSERT INTO orders VALUES (208, 4, 4, '2025-02-13 12:49:23');
INSERT INTO orders VALUES (209, 1, 5, '2025-02-14 09:22:33');
INSERT INTO orders VALUES (210, 3, 5, '2025-02-14 12:15:02');
INSERT INTO orders VALUES (211, 22, 5, '2025-02-14 12:49:24');
INSERT INTO orders VALUES (212, 1, 5, '2025-02-14 17:20:08');
INSERT INTO orders VALUES (213, 1, 5, '2025-02-15 07:55:42');
INSERT INTO orders VALUES (214, 5, 3, '2025-02-15 12:34:41');
INSERT INTO orders VALUES (215, 18, 3, '2025-02-16 13:45:55');
INSERT INTO orders VALUES (216, 10, 3, '2025-02-16 17:44:41');
INSERT INTO orders VALUES (217, 19, 3, '2025-02-17 08:53:01');
INSERT INTO orders VALUES (218, 10, 3, '2025-02-17 17:54:29');
INSERT INTO orders VALUES (219, 13, 5, '2025-02-18 09:49:06');
INSERT INTO orders VALUES (220, 18, 3, '2025-02-18 12:16:08');
INSERT INTO orders VALUES (221, 15, 4, '2025-02-18 19:54:52');
INSERT INTO orders VALUES (222, 19, 3, '2025-02-19 10:10:41');
INSERT INTO orders VALUES (223, 1, 5, '2025-02-20 08:23:07');
INSERT INTO orders VALUES (224, 11, 3, '2025-02-20 09:57:27');
INSERT INTO orders VALUES (225, 21, 5, '2025-02-20 12:05:49');
INSERT INTO orders VALUES (226, 6, 3, '2025-02-20 13:10:27');
INSERT INTO orders VALUES (227, 22, 5, '2025-02-20 13:41:13');
INSERT INTO orders VALUES (228, 2, 5, '2025-02-21 08:42:56');
INSERT INTO orders VALUES (229, 18, 1, '2025-02-22 07:53:57');
INSERT INTO orders VALUES (230, 19, 3, '2025-02-24 12:57:27');
INSERT INTO orders VALUES (231, 1, 5, '2025-02-25 08:23:54');
INSERT INTO orders VALUES (232, 11, 4, '2025-02-26 10:04:11');
INSERT INTO orders VALUES (233, 12, 3, '2025-02-26 13:03:01');
INSERT INTO orders VALUES (234, 14, 3, '2025-02-26 21:53:19');
INSERT INTO orders VALUES (235, 2, 5, '2025-02-27 13:32:40');
INSERT INTO orders VALUES (236, 2, 5, '2025-02-28 12:07:18');
INSERT INTO orders VALUES (237, 1, 5, '2025-02-28 17:26:13');
INSERT INTO orders VALUES (238, 8, 3, '2025-03-02 21:59:12');
INSERT INTO orders VALUES (239, 1, 5, '2025-03-03 09:26:49');
INSERT INTO orders VALUES (240, 22, 5, '2025-03-03 13:33:18');
INSERT INTO orders VALUES (241, 18, 1, '2025-03-03 19:43:32');
INSERT INTO orders VALUES (242, 14, 3, '2025-03-04 21:30:05');
INSERT INTO orders VALUES (243, 1, 5, '2025-03-05 07:25:38');
INSERT INTO orders VALUES (244, 15, 3, '2025-03-05 15:53:12');
INSERT INTO orders VALUES (245, 14, 3, '2025-03-08 17:23:59');
INSERT INTO orders VALUES (246, 4, 3, '2025-03-09 09:03:39');
INSERT INTO orders VALUES (247, 11, 3, '2025-03-09 13:03:35');
INSERT INTO orders VALUES (248, 10, 3, '2025-03-09 13:45:23');
INSERT INTO orders VALUES (249, 19, 4, '2025-03-09 17:22:03');
INSERT INTO orders VALUES (250, 1, 5, '2025-03-11 08:20:27');
INSERT INTO orders VALUES (251, 1, 5, '2025-03-11 13:53:20');
INSERT INTO orders VALUES (252, 1, 5, '2025-03-12 09:26:07');
INSERT INTO orders VALUES (253, 8, 1, '2025-03-12 19:08:31');
INSERT INTO orders VALUES (254, 1, 5, '2025-03-14 07:53:14');
INSERT INTO orders VALUES (255, 1, 5, '2025-03-14 12:08:10');
INSERT INTO orders VALUES (256, 4, 4, '2025-03-16 08:49:54');
INSERT INTO orders VALUES (257, 1, 5, '2025-03-16 17:14:10');
INSERT INTO orders VALUES (258, 1, 5, '2025-03-18 07:41:17');
INSERT INTO orders VALUES (259, 13, 5, '2025-03-18 12:59:25');
INSERT INTO orders VALUES (260, 10, 4, '2025-03-19 08:06:35');
INSERT INTO orders VALUES (261, 22, 5, '2025-03-19 12:12:26');
INSERT INTO orders VALUES (262, 5, 4, '2025-03-20 09:03:58');
INSERT INTO orders VALUES (263, 16, 1, '2025-03-22 13:29:29');
INSERT INTO orders VALUES (264, 4, 4, '2025-03-23 08:55:42');
INSERT INTO orders VALUES (265, 1, 5, '2025-03-23 10:19:32');
INSERT INTO orders VALUES (266, 2, 5, '2025-03-23 12:39:25');
INSERT INTO orders VALUES (267, 10, 4, '2025-03-24 12:18:22');
INSERT INTO orders VALUES (268, 2, 5, '2025-03-25 10:28:29');
INSERT INTO orders VALUES (269, 1, 5, '2025-03-25 12:02:37');
INSERT INTO orders VALUES (270, 21, 5, '2025-03-26 08:49:40');
INSERT INTO orders VALUES (271, 15, 3, '2025-03-28 07:34:37');
INSERT INTO orders VALUES (272, 10, 3, '2025-03-28 12:17:52');
INSERT INTO orders VALUES (273, 21, 5, '2025-03-29 12:39:13');
INSERT INTO orders VALUES (274, 10, 3, '2025-03-29 13:56:03');
INSERT INTO orders VALUES (275, 3, 5, '2025-03-31 21:04:21');
INSERT INTO order_lines VALUES (1, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (2, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (3, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (3, 2, 5, 2, 5500);
INSERT INTO order_lines VALUES (4, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (5, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (6, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (7, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (8, 1, 10, 1, 25000);
INSERT INTO order_lines VALUES (8, 2, 4, 1, 5900);
INSERT INTO order_lines VALUES (9, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (9, 2, 7, 1, 4500);
INSERT INTO order_lines VALUES (10, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (10, 2, 5, 1, 5500);
INSERT INTO order_lines VALUES (11, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (12, 1, 7, 2, 4500);
INSERT INTO order_lines VALUES (13, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (14, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (14, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (14, 3, 5, 1, 5500);
INSERT INTO order_lines VALUES (15, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (15, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (16, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (16, 2, 4, 1, 5900);
INSERT INTO order_lines VALUES (17, 1, 8, 2, 6500);
INSERT INTO order_lines VALUES (18, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (19, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (20, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (20, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (20, 3, 5, 2, 5500);
INSERT INTO order_lines VALUES (21, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (22, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (23, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (23, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (24, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (24, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (24, 3, 9, 1, 3500);
INSERT INTO order_lines VALUES (25, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (25, 2, 7, 1, 4500);
INSERT INTO order_lines VALUES (25, 3, 1, 1, 4500);
INSERT INTO order_lines VALUES (26, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (27, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (28, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (29, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (29, 2, 1, 2, 4500);
INSERT INTO order_lines VALUES (30, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (31, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (32, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (32, 2, 8, 1, 6500);
INSERT INTO order_lines VALUES (33, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (34, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (35, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (36, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (37, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (37, 2, 5, 2, 5500);
INSERT INTO order_lines VALUES (38, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (38, 2, 2, 2, 5000);
INSERT INTO order_lines VALUES (39, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (40, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (41, 1, 4, 2, 5900);
INSERT INTO order_lines VALUES (42, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (42, 2, 3, 1, 5500);
INSERT INTO order_lines VALUES (43, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (43, 2, 6, 2, 5800);
INSERT INTO order_lines VALUES (44, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (44, 2, 5, 1, 5500);
INSERT INTO order_lines VALUES (45, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (46, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (47, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (48, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (49, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (50, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (50, 2, 9, 1, 3500);
INSERT INTO order_lines VALUES (51, 1, 6, 2, 5800);
INSERT INTO order_lines VALUES (52, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (52, 2, 1, 2, 4500);
INSERT INTO order_lines VALUES (53, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (54, 1, 10, 1, 25000);
INSERT INTO order_lines VALUES (54, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (55, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (56, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (56, 2, 4, 2, 5900);
INSERT INTO order_lines VALUES (57, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (58, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (59, 1, 4, 2, 5900);
INSERT INTO order_lines VALUES (59, 2, 9, 1, 3500);
INSERT INTO order_lines VALUES (59, 3, 9, 1, 3500);
INSERT INTO order_lines VALUES (60, 1, 9, 2, 3500);
INSERT INTO order_lines VALUES (61, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (62, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (63, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (64, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (65, 1, 3, 2, 5500);
INSERT INTO order_lines VALUES (66, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (66, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (67, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (68, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (69, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (69, 2, 1, 2, 4500);
INSERT INTO order_lines VALUES (70, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (70, 2, 4, 1, 5900);
INSERT INTO order_lines VALUES (71, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (72, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (73, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (74, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (74, 2, 2, 2, 5000);
INSERT INTO order_lines VALUES (75, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (76, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (76, 2, 3, 1, 5500);
INSERT INTO order_lines VALUES (77, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (78, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (79, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (79, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (80, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (81, 1, 9, 2, 3500);
INSERT INTO order_lines VALUES (82, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (83, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (84, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (85, 1, 5, 2, 5500);
INSERT INTO order_lines VALUES (86, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (87, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (87, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (87, 3, 1, 1, 4500);
INSERT INTO order_lines VALUES (88, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (89, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (90, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (91, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (91, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (92, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (92, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (92, 3, 2, 2, 5000);
INSERT INTO order_lines VALUES (93, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (94, 1, 8, 2, 6500);
INSERT INTO order_lines VALUES (94, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (94, 3, 7, 2, 4500);
INSERT INTO order_lines VALUES (95, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (96, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (97, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (97, 2, 2, 2, 5000);
INSERT INTO order_lines VALUES (97, 3, 6, 2, 5800);
INSERT INTO order_lines VALUES (98, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (98, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (99, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (99, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (100, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (101, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (102, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (102, 2, 9, 2, 3500);
INSERT INTO order_lines VALUES (102, 3, 1, 1, 4500);
INSERT INTO order_lines VALUES (103, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (104, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (105, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (106, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (106, 2, 4, 1, 5900);
INSERT INTO order_lines VALUES (106, 3, 1, 1, 4500);
INSERT INTO order_lines VALUES (107, 1, 6, 2, 5800);
INSERT INTO order_lines VALUES (107, 2, 6, 1, 5800);
INSERT INTO order_lines VALUES (107, 3, 4, 1, 5900);
INSERT INTO order_lines VALUES (108, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (109, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (110, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (111, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (112, 1, 10, 1, 25000);
INSERT INTO order_lines VALUES (112, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (113, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (113, 2, 6, 2, 5800);
INSERT INTO order_lines VALUES (113, 3, 4, 1, 5900);
INSERT INTO order_lines VALUES (114, 1, 10, 1, 25000);
INSERT INTO order_lines VALUES (114, 2, 3, 1, 5500);
INSERT INTO order_lines VALUES (115, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (115, 2, 6, 1, 5800);
INSERT INTO order_lines VALUES (115, 3, 4, 2, 5900);
INSERT INTO order_lines VALUES (116, 1, 10, 1, 25000);
INSERT INTO order_lines VALUES (116, 2, 9, 1, 3500);
INSERT INTO order_lines VALUES (116, 3, 1, 1, 4500);
INSERT INTO order_lines VALUES (117, 1, 4, 2, 5900);
INSERT INTO order_lines VALUES (117, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (118, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (118, 2, 1, 2, 4500);
INSERT INTO order_lines VALUES (119, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (119, 2, 4, 1, 5900);
INSERT INTO order_lines VALUES (120, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (121, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (121, 2, 8, 1, 6500);
INSERT INTO order_lines VALUES (122, 1, 8, 2, 6500);
INSERT INTO order_lines VALUES (123, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (124, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (125, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (125, 2, 7, 1, 4500);
INSERT INTO order_lines VALUES (126, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (126, 2, 6, 1, 5800);
INSERT INTO order_lines VALUES (126, 3, 1, 1, 4500);
INSERT INTO order_lines VALUES (127, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (128, 1, 10, 2, 25000);
INSERT INTO order_lines VALUES (129, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (129, 2, 1, 2, 4500);
INSERT INTO order_lines VALUES (129, 3, 2, 1, 5000);
INSERT INTO order_lines VALUES (130, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (131, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (132, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (132, 2, 3, 2, 5500);
INSERT INTO order_lines VALUES (132, 3, 7, 1, 4500);
INSERT INTO order_lines VALUES (133, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (134, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (135, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (136, 1, 5, 2, 5500);
INSERT INTO order_lines VALUES (136, 2, 5, 1, 5500);
INSERT INTO order_lines VALUES (136, 3, 2, 1, 5000);
INSERT INTO order_lines VALUES (137, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (138, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (139, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (139, 2, 6, 1, 5800);
INSERT INTO order_lines VALUES (140, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (140, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (140, 3, 2, 1, 5000);
INSERT INTO order_lines VALUES (141, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (141, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (141, 3, 1, 1, 4500);
INSERT INTO order_lines VALUES (142, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (143, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (144, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (145, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (145, 2, 8, 2, 6500);
INSERT INTO order_lines VALUES (145, 3, 10, 1, 25000);
INSERT INTO order_lines VALUES (146, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (147, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (147, 2, 5, 2, 5500);
INSERT INTO order_lines VALUES (148, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (149, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (149, 2, 1, 2, 4500);
INSERT INTO order_lines VALUES (150, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (151, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (151, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (152, 1, 12, 1, 6500);
INSERT INTO order_lines VALUES (152, 2, 3, 1, 5500);
INSERT INTO order_lines VALUES (153, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (153, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (154, 1, 10, 1, 25000);
INSERT INTO order_lines VALUES (155, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (156, 1, 5, 2, 5500);
INSERT INTO order_lines VALUES (156, 2, 5, 1, 5500);
INSERT INTO order_lines VALUES (156, 3, 12, 1, 6500);
INSERT INTO order_lines VALUES (157, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (158, 1, 3, 2, 5500);
INSERT INTO order_lines VALUES (159, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (159, 2, 8, 2, 6500);
INSERT INTO order_lines VALUES (160, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (161, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (161, 2, 3, 1, 5500);
INSERT INTO order_lines VALUES (162, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (163, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (163, 2, 12, 1, 6500);
INSERT INTO order_lines VALUES (164, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (165, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (166, 1, 7, 2, 4500);
INSERT INTO order_lines VALUES (167, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (167, 2, 5, 2, 5500);
INSERT INTO order_lines VALUES (168, 1, 12, 1, 6500);
INSERT INTO order_lines VALUES (169, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (169, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (170, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (171, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (171, 2, 5, 1, 5500);
INSERT INTO order_lines VALUES (172, 1, 5, 2, 5500);
INSERT INTO order_lines VALUES (172, 2, 12, 1, 6500);
INSERT INTO order_lines VALUES (173, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (173, 2, 8, 1, 6500);
INSERT INTO order_lines VALUES (173, 3, 5, 2, 5500);
INSERT INTO order_lines VALUES (174, 1, 7, 2, 4500);
INSERT INTO order_lines VALUES (174, 2, 12, 1, 6500);
INSERT INTO order_lines VALUES (174, 3, 6, 1, 5800);
INSERT INTO order_lines VALUES (175, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (175, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (176, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (176, 2, 7, 1, 4500);
INSERT INTO order_lines VALUES (177, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (177, 2, 5, 1, 5500);
INSERT INTO order_lines VALUES (177, 3, 8, 2, 6500);
INSERT INTO order_lines VALUES (178, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (178, 2, 1, 2, 4500);
INSERT INTO order_lines VALUES (178, 3, 8, 2, 6500);
INSERT INTO order_lines VALUES (179, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (180, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (180, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (181, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (182, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (182, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (183, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (184, 1, 12, 2, 6500);
INSERT INTO order_lines VALUES (185, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (186, 1, 6, 2, 5800);
INSERT INTO order_lines VALUES (187, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (188, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (189, 1, 10, 2, 25000);
INSERT INTO order_lines VALUES (190, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (190, 2, 9, 1, 3500);
INSERT INTO order_lines VALUES (191, 1, 10, 2, 25000);
INSERT INTO order_lines VALUES (192, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (193, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (193, 2, 4, 2, 5900);
INSERT INTO order_lines VALUES (194, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (195, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (195, 2, 4, 1, 5900);
INSERT INTO order_lines VALUES (196, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (196, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (197, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (198, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (198, 2, 8, 2, 6500);
INSERT INTO order_lines VALUES (198, 3, 4, 1, 5900);
INSERT INTO order_lines VALUES (199, 1, 10, 1, 25000);
INSERT INTO order_lines VALUES (200, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (200, 2, 7, 2, 4500);
INSERT INTO order_lines VALUES (201, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (202, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (202, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (203, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (203, 2, 1, 2, 4500);
INSERT INTO order_lines VALUES (203, 3, 1, 2, 4500);
INSERT INTO order_lines VALUES (204, 1, 4, 2, 5900);
INSERT INTO order_lines VALUES (205, 1, 12, 1, 6500);
INSERT INTO order_lines VALUES (206, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (206, 2, 10, 1, 25000);
INSERT INTO order_lines VALUES (207, 1, 6, 2, 5800);
INSERT INTO order_lines VALUES (208, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (208, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (208, 3, 8, 2, 6500);
INSERT INTO order_lines VALUES (209, 1, 4, 2, 5900);
INSERT INTO order_lines VALUES (209, 2, 5, 2, 5500);
INSERT INTO order_lines VALUES (209, 3, 12, 1, 6500);
INSERT INTO order_lines VALUES (210, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (211, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (211, 2, 3, 1, 5500);
INSERT INTO order_lines VALUES (212, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (212, 2, 9, 1, 3500);
INSERT INTO order_lines VALUES (212, 3, 10, 1, 25000);
INSERT INTO order_lines VALUES (213, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (214, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (214, 2, 5, 1, 5500);
INSERT INTO order_lines VALUES (214, 3, 1, 2, 4500);
INSERT INTO order_lines VALUES (215, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (216, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (216, 2, 7, 1, 4500);
INSERT INTO order_lines VALUES (217, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (218, 1, 12, 1, 6500);
INSERT INTO order_lines VALUES (218, 2, 8, 1, 6500);
INSERT INTO order_lines VALUES (219, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (219, 2, 7, 1, 4500);
INSERT INTO order_lines VALUES (220, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (220, 2, 10, 1, 25000);
INSERT INTO order_lines VALUES (221, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (221, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (222, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (223, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (224, 1, 12, 1, 6500);
INSERT INTO order_lines VALUES (225, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (226, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (226, 2, 3, 1, 5500);
INSERT INTO order_lines VALUES (227, 1, 9, 2, 3500);
INSERT INTO order_lines VALUES (228, 1, 12, 1, 6500);
INSERT INTO order_lines VALUES (228, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (229, 1, 11, 1, 6300);
INSERT INTO order_lines VALUES (229, 2, 2, 2, 5000);
INSERT INTO order_lines VALUES (229, 3, 1, 1, 4500);
INSERT INTO order_lines VALUES (230, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (230, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (230, 3, 3, 1, 5500);
INSERT INTO order_lines VALUES (231, 1, 10, 2, 25000);
INSERT INTO order_lines VALUES (232, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (233, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (234, 1, 10, 1, 25000);
INSERT INTO order_lines VALUES (234, 2, 10, 1, 25000);
INSERT INTO order_lines VALUES (235, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (235, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (236, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (236, 2, 7, 1, 4500);
INSERT INTO order_lines VALUES (237, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (238, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (239, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (239, 2, 3, 1, 5500);
INSERT INTO order_lines VALUES (240, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (241, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (241, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (241, 3, 2, 1, 5000);
INSERT INTO order_lines VALUES (242, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (242, 2, 1, 2, 4500);
INSERT INTO order_lines VALUES (242, 3, 6, 2, 5800);
INSERT INTO order_lines VALUES (243, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (243, 2, 7, 1, 4500);
INSERT INTO order_lines VALUES (244, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (245, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (245, 2, 9, 1, 3500);
INSERT INTO order_lines VALUES (246, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (246, 2, 5, 1, 5500);
INSERT INTO order_lines VALUES (247, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (247, 2, 5, 1, 5500);
INSERT INTO order_lines VALUES (248, 1, 11, 1, 6300);
INSERT INTO order_lines VALUES (248, 2, 1, 2, 4500);
INSERT INTO order_lines VALUES (249, 1, 11, 1, 6300);
INSERT INTO order_lines VALUES (249, 2, 11, 1, 6300);
INSERT INTO order_lines VALUES (250, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (251, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (251, 2, 5, 2, 5500);
INSERT INTO order_lines VALUES (252, 1, 10, 1, 25000);
INSERT INTO order_lines VALUES (253, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (254, 1, 8, 2, 6500);
INSERT INTO order_lines VALUES (255, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (255, 2, 9, 1, 3500);
INSERT INTO order_lines VALUES (255, 3, 12, 1, 6500);
INSERT INTO order_lines VALUES (256, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (257, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (257, 2, 12, 1, 6500);
INSERT INTO order_lines VALUES (258, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (259, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (260, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (261, 1, 12, 2, 6500);
INSERT INTO order_lines VALUES (261, 2, 8, 1, 6500);
INSERT INTO order_lines VALUES (262, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (263, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (263, 2, 12, 1, 6500);
INSERT INTO order_lines VALUES (264, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (265, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (266, 1, 10, 1, 25000);
INSERT INTO order_lines VALUES (266, 2, 12, 1, 6500);
INSERT INTO order_lines VALUES (266, 3, 3, 1, 5500);
INSERT INTO order_lines VALUES (267, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (267, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (267, 3, 4, 1, 5900);
INSERT INTO order_lines VALUES (268, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (269, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (269, 2, 9, 1, 3500);
INSERT INTO order_lines VALUES (270, 1, 9, 2, 3500);
INSERT INTO order_lines VALUES (270, 2, 12, 2, 6500);
INSERT INTO order_lines VALUES (271, 1, 9, 1, 3500);
INSERT INTO order_lines VALUES (271, 2, 12, 1, 6500);
INSERT INTO order_lines VALUES (272, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (273, 1, 12, 2, 6500);
INSERT INTO order_lines VALUES (274, 1, 6, 2, 5800);
INSERT INTO order_lines VALUES (274, 2, 10, 2, 25000);
INSERT INTO order_lines VALUES (274, 3, 1, 1, 4500);
INSERT INTO order_lines VALUES (275, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (275, 2, 2, 2, 5000);
INSERT INTO order_lines VALUES (275, 3, 2, 1, 5000);

-- ---------------------------------------------------------------- part 2: edge cases
-- 101: born 2005 = exactly 20 at as_of -> '20s'; one single order, at midnight on the
--      first day of the 90-day window (inside it); never returns.
INSERT INTO members VALUES (101, '2024-05-10 09:00:00', 2005, 'F', 'Seoul');
INSERT INTO orders VALUES (1001, 101, 1, '2025-01-01 00:00:00');
INSERT INTO order_lines VALUES (1001, 1, 1, 1, 4500);

-- 102: born 2006 = 19 -> '10s'; never ordered (member, not buyer; dormant from joining).
INSERT INTO members VALUES (102, '2024-06-01 12:00:00', 2006, 'M', 'Gyeonggi');

-- 103: born 1965 = exactly 60 -> '60+'; orders one second before the window and on both
--      sides of the January/February boundary. First -> second order = 31 days (misses
--      the 30-day window, inside 60).
INSERT INTO members VALUES (103, '2024-08-20 18:30:00', 1965, 'U', 'Busan');
INSERT INTO orders VALUES (1002, 103, 5, '2024-12-31 23:59:59');
INSERT INTO orders VALUES (1003, 103, 5, '2025-01-31 23:59:59');
INSERT INTO orders VALUES (1004, 103, 5, '2025-02-01 00:00:00');
INSERT INTO order_lines VALUES (1002, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (1003, 1, 7, 2, 4500);
INSERT INTO order_lines VALUES (1004, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (1004, 2, 2, 1, 5000);

-- 104: born 1966 = 59 -> '50s'; exactly heavy_min_orders (8) orders in 2025-02, the
--      signature latte in exactly menu_heavy_min_orders (4) of them (a heavy buyer).
INSERT INTO members VALUES (104, '2023-11-11 11:11:11', 1966, 'F', 'Seoul');
INSERT INTO orders VALUES (1010, 104, 1, '2025-02-03 08:10:00');
INSERT INTO orders VALUES (1011, 104, 1, '2025-02-05 08:12:00');
INSERT INTO orders VALUES (1012, 104, 1, '2025-02-07 08:05:00');
INSERT INTO orders VALUES (1013, 104, 2, '2025-02-10 12:30:00');
INSERT INTO orders VALUES (1014, 104, 1, '2025-02-12 08:15:00');
INSERT INTO orders VALUES (1015, 104, 1, '2025-02-17 08:20:00');
INSERT INTO orders VALUES (1016, 104, 2, '2025-02-20 13:00:00');
INSERT INTO orders VALUES (1017, 104, 1, '2025-02-28 23:59:59');
INSERT INTO order_lines VALUES (1010, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (1011, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (1012, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (1013, 1, 4, 2, 5900);
INSERT INTO order_lines VALUES (1013, 2, 9, 1, 3500);
INSERT INTO order_lines VALUES (1014, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (1015, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (1016, 1, 8, 1, 6500);
INSERT INTO order_lines VALUES (1017, 1, 1, 1, 4500);

-- 105: born 2018 = 7 -> folded into '10s'; 7 orders in 2025-02 (one short of heavy).
--      Americano in 3 distinct orders, one of which has it on two lines: still 3
--      orders, not 4, so not a heavy Americano buyer. A free (unit_price 0) coupon line.
INSERT INTO members VALUES (105, '2024-12-25 10:00:00', 2018, 'M', 'Seoul');
INSERT INTO orders VALUES (1020, 105, 2, '2025-02-01 15:00:00');
INSERT INTO orders VALUES (1021, 105, 2, '2025-02-02 15:00:00');
INSERT INTO orders VALUES (1022, 105, 2, '2025-02-08 15:00:00');
INSERT INTO orders VALUES (1023, 105, 2, '2025-02-09 16:00:00');
INSERT INTO orders VALUES (1024, 105, 2, '2025-02-15 16:00:00');
INSERT INTO orders VALUES (1025, 105, 2, '2025-02-16 17:00:00');
INSERT INTO orders VALUES (1026, 105, 2, '2025-02-22 17:00:00');
INSERT INTO order_lines VALUES (1020, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (1020, 2, 1, 1, 4500);
INSERT INTO order_lines VALUES (1021, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (1022, 1, 1, 2, 4500);
INSERT INTO order_lines VALUES (1023, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (1024, 1, 11, 1, 6300);
INSERT INTO order_lines VALUES (1025, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (1026, 1, 6, 2, 0);

-- 106: birth year unknown; the only member in Jeju and one single order, at midnight on
--      the first day of the 30-day active window: Jeju has a buyer but no interval, so
--      its median/mean are NULL and its top-2/3 products NULL.
INSERT INTO members VALUES (106, '2025-01-15 14:00:00', NULL, 'U', 'Jeju');
INSERT INTO orders VALUES (1030, 106, 6, '2025-03-02 00:00:00');
INSERT INTO order_lines VALUES (1030, 1, 12, 1, 6500);

-- 107: lives in Incheon, orders in Seoul (store region != member region); last order one
--      second before the active window: not active on as_of.
INSERT INTO members VALUES (107, '2024-09-01 00:00:00', 1990, 'F', 'Incheon');
INSERT INTO orders VALUES (1031, 107, 1, '2024-09-01 00:00:00');
INSERT INTO orders VALUES (1032, 107, 2, '2025-03-01 23:59:59');
INSERT INTO order_lines VALUES (1031, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (1032, 1, 2, 1, 5000);

-- 108-111: second order exactly 30, 60, 90 and 91 days after the first.
INSERT INTO members VALUES (108, '2024-10-01 09:00:00', 1980, 'M', 'Gyeonggi');
INSERT INTO orders VALUES (1040, 108, 3, '2024-11-05 10:00:00');
INSERT INTO orders VALUES (1041, 108, 3, '2024-12-05 08:00:00');
INSERT INTO order_lines VALUES (1040, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (1041, 1, 3, 1, 5500);
INSERT INTO members VALUES (109, '2024-10-01 09:00:00', 1981, 'F', 'Gyeonggi');
INSERT INTO orders VALUES (1042, 109, 4, '2024-11-10 23:00:00');
INSERT INTO orders VALUES (1043, 109, 4, '2025-01-09 07:00:00');
INSERT INTO order_lines VALUES (1042, 1, 5, 1, 5500);
INSERT INTO order_lines VALUES (1043, 1, 5, 1, 5500);
INSERT INTO members VALUES (110, '2024-10-01 09:00:00', 1982, 'M', 'Gyeonggi');
INSERT INTO orders VALUES (1044, 110, 4, '2024-10-15 12:00:00');
INSERT INTO orders VALUES (1045, 110, 4, '2025-01-13 12:00:00');
INSERT INTO order_lines VALUES (1044, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (1045, 1, 12, 1, 6500);
INSERT INTO members VALUES (111, '2024-10-01 09:00:00', 1983, 'F', 'Gyeonggi');
INSERT INTO orders VALUES (1046, 111, 3, '2024-10-20 12:00:00');
INSERT INTO orders VALUES (1047, 111, 3, '2025-01-19 12:00:00');
INSERT INTO order_lines VALUES (1046, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (1047, 1, 1, 1, 4500);

-- 112: second order on the same day (0 days), and two orders with the same timestamp
--      (order_id decides their sequence).
INSERT INTO members VALUES (112, '2024-12-01 08:00:00', 1995, 'M', 'Busan');
INSERT INTO orders VALUES (1050, 112, 5, '2024-12-24 08:00:00');
INSERT INTO orders VALUES (1051, 112, 5, '2024-12-24 19:30:00');
INSERT INTO orders VALUES (1052, 112, 5, '2025-03-10 12:00:00');
INSERT INTO orders VALUES (1053, 112, 5, '2025-03-10 12:00:00');
INSERT INTO order_lines VALUES (1050, 1, 6, 1, 5800);
INSERT INTO order_lines VALUES (1051, 1, 7, 1, 4500);
INSERT INTO order_lines VALUES (1052, 1, 10, 1, 25000);
INSERT INTO order_lines VALUES (1053, 1, 1, 3, 4500);

-- 113: joins on as_of and orders minutes later, the product launched that day.
INSERT INTO members VALUES (113, '2025-03-31 10:00:00', 2000, 'F', 'Seoul');
INSERT INTO orders VALUES (1060, 113, 1, '2025-03-31 10:05:00');
INSERT INTO order_lines VALUES (1060, 1, 13, 1, 4200);

-- 114: 12 orders in 2025-03, well above heavy; Black Sesame Latte in 5 of them.
INSERT INTO members VALUES (114, '2024-04-01 00:00:00', 1975, 'M', 'Seoul');
INSERT INTO orders VALUES (1070, 114, 1, '2025-03-03 08:00:00');
INSERT INTO orders VALUES (1071, 114, 1, '2025-03-04 08:00:00');
INSERT INTO orders VALUES (1072, 114, 1, '2025-03-05 08:00:00');
INSERT INTO orders VALUES (1073, 114, 1, '2025-03-06 08:00:00');
INSERT INTO orders VALUES (1074, 114, 1, '2025-03-07 08:00:00');
INSERT INTO orders VALUES (1075, 114, 1, '2025-03-10 08:00:00');
INSERT INTO orders VALUES (1076, 114, 1, '2025-03-11 08:00:00');
INSERT INTO orders VALUES (1077, 114, 1, '2025-03-12 08:00:00');
INSERT INTO orders VALUES (1078, 114, 1, '2025-03-13 08:00:00');
INSERT INTO orders VALUES (1079, 114, 1, '2025-03-14 08:00:00');
INSERT INTO orders VALUES (1080, 114, 1, '2025-03-17 08:00:00');
INSERT INTO orders VALUES (1081, 114, 1, '2025-03-18 08:00:00');
INSERT INTO order_lines VALUES (1070, 1, 11, 1, 6300);
INSERT INTO order_lines VALUES (1071, 1, 11, 1, 6300);
INSERT INTO order_lines VALUES (1072, 1, 11, 1, 6300);
INSERT INTO order_lines VALUES (1073, 1, 11, 1, 6300);
INSERT INTO order_lines VALUES (1074, 1, 11, 1, 6300);
INSERT INTO order_lines VALUES (1075, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (1076, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (1077, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (1078, 1, 9, 2, 3500);
INSERT INTO order_lines VALUES (1079, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (1080, 1, 1, 1, 4500);
INSERT INTO order_lines VALUES (1081, 1, 2, 1, 5000);

-- 115: exactly regular_min_orders (3) orders in 2025-01 and 2 (light) in 2025-02.
INSERT INTO members VALUES (115, '2024-07-07 07:07:07', 1999, 'F', 'Busan');
INSERT INTO orders VALUES (1090, 115, 5, '2025-01-05 09:00:00');
INSERT INTO orders VALUES (1091, 115, 5, '2025-01-15 09:00:00');
INSERT INTO orders VALUES (1092, 115, 5, '2025-01-25 09:00:00');
INSERT INTO orders VALUES (1093, 115, 5, '2025-02-05 09:00:00');
INSERT INTO orders VALUES (1094, 115, 5, '2025-02-25 09:00:00');
INSERT INTO order_lines VALUES (1090, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (1091, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (1092, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (1093, 1, 2, 1, 5000);
INSERT INTO order_lines VALUES (1094, 1, 2, 1, 5000);

-- 116, 117: the only Daegu members. Americano, Cafe Latte, Green Tea Latte and Earl Grey
--      are tied at quantity 3; the top 3 are the three lowest product_ids. Intervals
--      4, 6 and 11 days: median 6 (odd count).
INSERT INTO members VALUES (116, '2024-02-29 12:00:00', 1988, 'M', 'Daegu');
INSERT INTO members VALUES (117, '2024-03-01 12:00:00', 1987, 'F', 'Daegu');
INSERT INTO orders VALUES (1100, 116, 7, '2025-03-01 09:00:00');
INSERT INTO orders VALUES (1101, 116, 7, '2025-03-05 09:00:00');
INSERT INTO orders VALUES (1102, 117, 7, '2025-03-01 10:00:00');
INSERT INTO orders VALUES (1103, 117, 7, '2025-03-07 10:00:00');
INSERT INTO orders VALUES (1104, 117, 7, '2025-03-18 10:00:00');
INSERT INTO order_lines VALUES (1100, 1, 7, 3, 4500);
INSERT INTO order_lines VALUES (1100, 2, 2, 1, 5000);
INSERT INTO order_lines VALUES (1101, 1, 5, 2, 5500);
INSERT INTO order_lines VALUES (1101, 2, 8, 2, 6500);
INSERT INTO order_lines VALUES (1102, 1, 1, 3, 4500);
INSERT INTO order_lines VALUES (1103, 1, 2, 2, 5000);
INSERT INTO order_lines VALUES (1104, 1, 5, 1, 5500);

-- 118, 119: last order exactly 89 days before as_of (not dormant) and 90 days before
--      (dormant: the 90-day window 2025-01-01 .. 2025-03-31 has no order).
INSERT INTO members VALUES (118, '2024-01-01 00:00:00', 1970, 'F', 'Seoul');
INSERT INTO orders VALUES (1110, 118, 2, '2025-01-01 12:00:00');
INSERT INTO order_lines VALUES (1110, 1, 4, 1, 5900);
INSERT INTO members VALUES (119, '2024-01-01 00:00:00', 1971, 'M', 'Seoul');
INSERT INTO orders VALUES (1111, 119, 2, '2024-12-31 12:00:00');
INSERT INTO order_lines VALUES (1111, 1, 4, 1, 5900);

-- 120: an order before the daily series starts and before coverage start (2024-03-20):
--      it would make 120 active on 2024-04-01 .. 2024-04-18, days whose active count is
--      NULL (look-back before coverage start); a March 2024 month/cohort of its own.
INSERT INTO members VALUES (120, '2024-03-01 10:00:00', 1960, 'M', 'Gyeonggi');
INSERT INTO orders VALUES (1120, 120, 3, '2024-03-20 15:00:00');
INSERT INTO order_lines VALUES (1120, 1, 9, 4, 3500);

-- 121, 122: cohort 2025-01 at the 60-day maturity edge. 122's first order on 2025-01-30
--      has had exactly 60 days observed (matured) and returns on as_of, 60 days later;
--      121's on 2025-01-31 has 59 (not matured): the cohort's 60-day rate is NULL.
INSERT INTO members VALUES (121, '2024-12-01 09:00:00', 1992, 'F', 'Seoul');
INSERT INTO orders VALUES (1121, 121, 1, '2025-01-31 09:00:00');
INSERT INTO order_lines VALUES (1121, 1, 2, 1, 5000);
INSERT INTO members VALUES (122, '2024-12-01 09:00:00', 1993, 'M', 'Seoul');
INSERT INTO orders VALUES (1122, 122, 1, '2025-01-30 23:00:00');
INSERT INTO orders VALUES (1123, 122, 2, '2025-03-31 08:00:00');
INSERT INTO order_lines VALUES (1122, 1, 3, 1, 5500);
INSERT INTO order_lines VALUES (1123, 1, 3, 1, 5500);

-- 123, 124: cohort 2025-03 at the 30-day edge: 123's first order on 2025-03-01 has
--      exactly 30 days observed, 124's on 2025-03-02 has 29.
INSERT INTO members VALUES (123, '2025-02-10 09:00:00', 1994, 'F', 'Busan');
INSERT INTO orders VALUES (1124, 123, 5, '2025-03-01 18:00:00');
INSERT INTO order_lines VALUES (1124, 1, 6, 1, 5800);
INSERT INTO members VALUES (124, '2025-02-10 09:00:00', 1994, 'M', 'Busan');
INSERT INTO orders VALUES (1125, 124, 5, '2025-03-02 18:00:00');
INSERT INTO order_lines VALUES (1125, 1, 6, 1, 5800);

-- 125: joined long before coverage start and no order on record: never ordered.
INSERT INTO members VALUES (125, '2023-05-05 05:05:05', 1985, 'F', 'Incheon');

-- 126, 127: joins on either side of coverage start. 126 joins on 2024-04-09 (its
--      ordered_members day is NULL) and orders once, on 2024-06-01: lapsed from
--      2024-08-30 (90 days later). 127 joins on 2024-04-10, the first covered day, and
--      orders that day: the series' first counted ordered member. It is not yet dormant
--      on 2024-07-08, the first day dormant counts are given, and lapsed from 2024-07-09
--      (90 days after its order).
INSERT INTO members VALUES (126, '2024-04-09 12:00:00', 1979, 'M', 'Gyeonggi');
INSERT INTO orders VALUES (1126, 126, 3, '2024-06-01 12:00:00');
INSERT INTO order_lines VALUES (1126, 1, 1, 2, 4500);
INSERT INTO members VALUES (127, '2024-04-10 08:00:00', 1978, 'F', 'Seoul');
INSERT INTO orders VALUES (1127, 127, 1, '2024-04-10 08:30:00');
INSERT INTO order_lines VALUES (1127, 1, 4, 1, 5900);

-- 128-130: what orders before coverage start leave unknown (schema/README.md "Coverage").
-- 128: joined before coverage start; its first order on record, 2024-04-05, lies before
--      coverage start, in the month that straddles it: 2024-04 (with 127's order on
--      coverage start itself) is in the sales tables as recorded, but not in
--      user_segments or heavy_users, whose per-member counts would miss earlier orders.
--      That order has the signature latte, the only signature product 128 bought: on
--      record, so 128 is known not to be a "never signature" member. It orders again in
--      the active window: known never to have bought a new product (all launched after
--      coverage start). Not in any repurchase cohort (its first order may be earlier):
--      counted in 2024-04's unknown_first_buyers. Its 349-day gap starts before coverage
--      start, so Busan's cycle leaves it out (orders may be missing in between).
INSERT INTO members VALUES (128, '2023-05-01 10:00:00', 1990, 'F', 'Busan');
INSERT INTO orders VALUES (1128, 128, 5, '2024-04-05 11:00:00');
INSERT INTO orders VALUES (1129, 128, 5, '2025-03-20 11:00:00');
INSERT INTO order_lines VALUES (1128, 1, 4, 1, 5900);
INSERT INTO order_lines VALUES (1129, 1, 1, 1, 4500);
-- 129: joined before coverage start and bought only plain products since: whether it
--      ever bought a signature product (launched 2022) is unknown, so it is among
--      Busan 30s' active_members but in neither never_signature nor known_signature; it
--      is a known "never new" member. Cohort 2025-03: unknown_first_buyers.
INSERT INTO members VALUES (129, '2024-01-15 10:00:00', 1991, 'M', 'Busan');
INSERT INTO orders VALUES (1130, 129, 5, '2025-03-21 12:00:00');
INSERT INTO order_lines VALUES (1130, 1, 2, 1, 5000);
-- 130: the same purchases, but joined on coverage start's day (in the evening): its
--      whole history is on record, so it is a known "never signature" and "never new"
--      member, and a buyer of the 2025-03 cohort.
INSERT INTO members VALUES (130, '2024-04-10 18:00:00', 1992, 'U', 'Busan');
INSERT INTO orders VALUES (1131, 130, 5, '2025-03-22 12:00:00');
INSERT INTO order_lines VALUES (1131, 1, 2, 1, 5000);
-- 131: joined in 2021, before every product launched, and bought only plain products
--      on record: with the dataset's coverage start its signature history is unknown;
--      with a coverage start before every launch (check_sql.py's 2022-01-01 variant) it
--      is known from the launch dates alone, though it joined before coverage start.
INSERT INTO members VALUES (131, '2021-06-01 10:00:00', 1982, 'M', 'Incheon');
INSERT INTO orders VALUES (1132, 131, 7, '2025-03-25 12:00:00');
INSERT INTO order_lines VALUES (1132, 1, 1, 2, 4500);
